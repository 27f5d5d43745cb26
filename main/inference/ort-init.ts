/**
 * Starts ONNX Runtime's native environment now rather than at the first session: a worker thread calls it as
 * it starts, so the runtime's own start-up (its environment and operator registry: 0.1-0.4 s here) runs while
 * the worker waits for its first message (the model the main thread is still checking) instead of after it.
 * onnxruntime-node starts it in its first InferenceSession.create through the same once-only call (its
 * dist/binding.js `initOrt`, pinned with the package at 1.30.0); when that module is not there, nothing
 * happens here and the first session starts the runtime as before. Call it after setting `ort.env.logLevel`,
 * which the runtime reads when it starts.
 */
import './ort-telemetry';
import { createRequire } from 'node:module';
import { modulePath } from '../workers/entry';

export function initOrtNow(): void {
  try {
    const binding = createRequire(modulePath(import.meta.url))('onnxruntime-node/dist/binding.js') as {
      initOrt?: unknown;
    };
    if (typeof binding.initOrt === 'function') (binding.initOrt as () => void)();
  } catch {
    // The first InferenceSession.create starts the runtime.
  }
}
