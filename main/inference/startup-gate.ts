/**
 * The prestarted inference worker's native start-up, never cut short by the process ending.
 *
 * As it starts, the inference worker loads onnxruntime-node's library and starts ONNX Runtime's environment
 * (worker.ts: `initOrtNow`). A worker thread terminated inside that native code aborts the whole process
 * ("terminate called after throwing an instance of 'Napi::Error'", exit code 134), like one terminated inside a
 * session run (worker-stop.ts). A prestarted worker (prestart.ts) that no engine adopted is terminated by Node when
 * the process ends, at whatever point it is: `cvm eval` with a wrong argument or an unreadable annotation file
 * ended about 50-100 ms after its start and aborted in one run of five, `cvm analyze` with a missing model now and
 * then. So the worker's start-up and the process's end take turns through a shared word:
 * - the worker claims its native start-up before the first native module loads, unless the process is already
 *   ending (then it stops at once, having loaded nothing), and releases it when the start-up is over or it dies;
 * - the ending process (a synchronous `exit` listener) marks itself ending, and waits while the worker is inside.
 * Workers that an engine starts itself are closed by the engine (terminateWhenIdle) and carry no gate.
 */
const NOT_STARTED = 0;
const IN_NATIVE_START = 1;
const STARTED = 2;
const ENDING = 3;

/** The shared word (one Int32 in a SharedArrayBuffer), passed to the worker as `workerData.startupGate`. */
export type StartupGate = Int32Array;

/** A native start-up slower than this on any machine is stuck; the process then ends without waiting further. */
export const NATIVE_START_LIMIT_MS = 10_000;

export function newStartupGate(): StartupGate {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

/** The gate a worker was given, if any (its workerData.startupGate). */
export function gateOf(workerData: unknown): StartupGate | null {
  if (typeof workerData !== 'object' || workerData === null) return null;
  const gate = (workerData as { startupGate?: unknown }).startupGate;
  return gate instanceof Int32Array && gate.buffer instanceof SharedArrayBuffer && gate.length === 1 ? gate : null;
}

/** In the worker, before any native module loads: claims the start-up, or throws when the process is ending. */
export function enterNativeStart(gate: StartupGate): void {
  if (Atomics.compareExchange(gate, 0, NOT_STARTED, IN_NATIVE_START) !== NOT_STARTED)
    throw new Error('the process is ending: the inference worker does not start');
}

/** In the worker, once the native start-up is over (or the worker is dying): the process may end now. */
export function leaveNativeStart(gate: StartupGate): void {
  if (Atomics.compareExchange(gate, 0, IN_NATIVE_START, STARTED) === IN_NATIVE_START) Atomics.notify(gate, 0);
}

/**
 * In the ending process (synchronously, from an `exit` listener): a worker that has not begun its native start-up
 * never will; one inside it is waited for, up to limitMs. Returns the milliseconds waited.
 */
export function endAfterNativeStart(gate: StartupGate, limitMs = NATIVE_START_LIMIT_MS): number {
  const start = performance.now();
  const was = Atomics.compareExchange(gate, 0, NOT_STARTED, ENDING);
  if (was === IN_NATIVE_START) Atomics.wait(gate, 0, IN_NATIVE_START, limitMs);
  return performance.now() - start;
}

/** The gate's state, for tests: 'not-started' | 'in-native-start' | 'started' | 'ending'. */
export function gateState(gate: StartupGate): 'not-started' | 'in-native-start' | 'started' | 'ending' {
  const states = ['not-started', 'in-native-start', 'started', 'ending'] as const;
  return states[Atomics.load(gate, 0)] ?? 'ending';
}
