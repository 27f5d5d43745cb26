/**
 * Worker thread of the whole-image models (radiograph kind, bone age): holds one ONNX session per model,
 * created on first use and kept warm, so session.run() never blocks the main thread. Packaged as its own
 * bundle (build/bundle-app.mjs: `whole-image-worker.cjs`). The sessions and runs are whole-image-run.ts's.
 */
import { parentPort } from 'node:worker_threads';
import './ort-telemetry';
import ort from 'onnxruntime-node';
import { initOrtNow } from './ort-init';
import { wholeImageRunner, type ToWholeImageWorker } from './whole-image-run';

export type { FromWholeImageWorker, ToWholeImageWorker, WholeImageFeed } from './whole-image-run';

if (!parentPort) throw new Error('main/inference/whole-image-worker.ts must run as a worker thread');
const port = parentPort;
const runner = wholeImageRunner(ort);
// ONNX Runtime's native start-up while the first request is on its way (ort-init.ts).
initOrtNow();

let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWholeImageWorker) => {
  if (msg.type === 'crash') {
    setImmediate(() => {
      throw new Error('whole-image worker crash requested');
    });
    return;
  }
  queue = queue.then(async () => {
    port.postMessage(await runner.run(msg));
  });
});
