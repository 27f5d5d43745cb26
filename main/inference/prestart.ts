/**
 * The inference worker started before the command that needs it has loaded its own code and checked the
 * model: the worker's Node environment and ONNX Runtime (0.1-0.3 s of loading) then come up beside the main
 * thread's work instead of after it. Until InferenceEngine adopts it, the worker waits for its `init` message
 * and keeps nothing alive (unref'd): a command that ends without analysing exits as before.
 */
import { Worker } from 'node:worker_threads';
import { workerEntry } from './worker-entry';

let early: { readonly worker: Worker; dead: boolean } | null = null;

/** Starts the inference worker now (once); InferenceEngine.start takes it instead of starting its own. */
export function prestartInferenceWorker(): void {
  if (early) return;
  const entry = workerEntry();
  const started = { worker: new Worker(entry.file, { eval: entry.eval }), dead: false };
  // A worker that fails before it is adopted is never handed out: the engine starts its own and reports why.
  const dead = (): void => {
    started.dead = true;
  };
  started.worker.once('error', dead);
  started.worker.once('exit', dead);
  started.worker.unref();
  early = started;
}

/** The prestarted worker, alive and referenced again, or null (none started, or it died). */
export function takePrestartedWorker(): Worker | null {
  const taken = early;
  early = null;
  if (!taken) return null;
  if (taken.dead) {
    void taken.worker.terminate();
    return null;
  }
  taken.worker.ref();
  return taken.worker;
}
