/**
 * Terminating a worker thread while it is inside an ONNX Runtime call (a session run, or a session being
 * created) aborts the whole process: the call completes into the torn-down environment and throws a
 * Napi::Error that nothing can catch ("terminate called after throwing an instance of 'Napi::Error'", exit
 * code 134). So a busy worker is let finish that call first.
 */
import type { Worker } from 'node:worker_threads';

/** Long enough for any one run or session creation on a slow CPU; a worker stuck beyond it is terminated. */
const CALL_LIMIT_MS = 60_000;

/**
 * Terminates `worker`; when `busy` (a request posted and not answered), first waits for its answer (the next
 * message it posts), its exit or its error, or `limitMs`.
 */
export async function terminateWhenIdle(worker: Worker, busy: boolean, limitMs = CALL_LIMIT_MS): Promise<void> {
  if (busy) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off('message', done).off('exit', done).off('error', done);
        resolve();
      };
      const timer = setTimeout(done, limitMs);
      worker.on('message', done).on('exit', done).on('error', done);
    });
  }
  await worker.terminate();
}
