/**
 * The inference worker started before the command that needs it has loaded its own code and checked the
 * model: the worker's Node environment and ONNX Runtime (0.1-0.3 s of loading) then come up beside the main
 * thread's work instead of after it. Until InferenceEngine adopts it, the worker waits for its `init` message
 * and keeps nothing alive (unref'd): a command that ends without analysing exits as before, once the worker is
 * not inside its native start-up (startup-gate.ts: ending the process there would abort it).
 */
import { Worker } from 'node:worker_threads';
import { endAfterNativeStart, gateState, newStartupGate, type StartupGate } from './startup-gate';
import { workerEntry } from './worker-entry';

let early: { readonly worker: Worker; readonly startupGate: StartupGate; dead: boolean } | null = null;

/** Starts the inference worker now (once); InferenceEngine.start takes it instead of starting its own. */
export function prestartInferenceWorker(): void {
  if (early) return;
  const entry = workerEntry();
  const startupGate = newStartupGate();
  const started = {
    worker: new Worker(entry.file, { eval: entry.eval, workerData: { startupGate } }),
    startupGate,
    dead: false,
  };
  // Synchronous, so it holds for process.exit() and uncaught errors too; adopted or not, Node ends the worker next.
  process.once('exit', () => endAfterNativeStart(startupGate));
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

/** Where the prestarted worker's native start-up is (startup-gate.ts), while no engine has adopted it; for tests. */
export function prestartedWorkerStartup(): ReturnType<typeof gateState> | null {
  return early ? gateState(early.startupGate) : null;
}
