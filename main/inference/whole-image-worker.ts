/**
 * Worker thread of the whole-image models (radiograph kind, bone age): holds one ONNX session per model,
 * created on first use and kept warm, so session.run() never blocks the main thread. Packaged as its own
 * bundle (build/bundle-app.mjs: `whole-image-worker.cjs`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';

if (!parentPort) throw new Error('main/inference/whole-image-worker.ts must run as a worker thread');
const port = parentPort;

export interface WholeImageFeed {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type ToWholeImageWorker =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly file: string;
      readonly sha256: string;
      readonly feeds: readonly WholeImageFeed[];
      readonly output: string;
    }
  | { readonly type: 'crash' };

export type FromWholeImageWorker =
  | {
      readonly type: 'result';
      readonly id: number;
      readonly data: Float32Array;
      readonly dims: readonly number[];
      readonly runMs: number;
      readonly createMs: number | null;
    }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };

const sessions = new Map<string, ort.InferenceSession>();
ort.env.logLevel = 'fatal';

async function session(file: string, sha256: string): Promise<{ s: ort.InferenceSession; createMs: number | null }> {
  const key = `${file}\n${sha256}`;
  const cached = sessions.get(key);
  if (cached) return { s: cached, createMs: null };
  const t0 = performance.now();
  const bytes = readFileSync(file);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256)
    throw new Error(`${file} changed since it was checked: sha256 is ${actual}, manifest says ${sha256}`);
  const s = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  sessions.set(key, s);
  return { s, createMs: performance.now() - t0 };
}

async function run(msg: Extract<ToWholeImageWorker, { type: 'run' }>): Promise<FromWholeImageWorker> {
  try {
    const { s, createMs } = await session(msg.file, msg.sha256);
    const feeds: Record<string, ort.Tensor> = {};
    for (const f of msg.feeds) feeds[f.name] = new ort.Tensor('float32', f.data, [...f.shape]);
    const t0 = performance.now();
    const out = (await s.run(feeds))[msg.output];
    const runMs = performance.now() - t0;
    if (!out || !(out.data instanceof Float32Array)) throw new Error(`${msg.file} returned no float32 "${msg.output}"`);
    return { type: 'result', id: msg.id, data: out.data, dims: [...out.dims], runMs, createMs };
  } catch (error) {
    return { type: 'failed', id: msg.id, message: error instanceof Error ? error.message : String(error) };
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWholeImageWorker) => {
  if (msg.type === 'crash') {
    setImmediate(() => {
      throw new Error('whole-image worker crash requested');
    });
    return;
  }
  queue = queue.then(async () => {
    port.postMessage(await run(msg));
  });
});
