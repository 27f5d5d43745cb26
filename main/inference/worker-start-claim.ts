/**
 * worker.ts's first import: the worker claims its native start-up (startup-gate.ts) before onnxruntime-node loads,
 * or stops here, having loaded nothing, when the process that prestarted it is already ending.
 */
import { workerData } from 'node:worker_threads';
import { enterNativeStart, gateOf, leaveNativeStart } from './startup-gate';

export const startupGate = gateOf(workerData);
if (startupGate) {
  enterNativeStart(startupGate);
  const gate = startupGate;
  // A worker that dies during its start-up (a library that fails to load) releases the gate as it goes.
  process.once('exit', () => leaveNativeStart(gate));
}
