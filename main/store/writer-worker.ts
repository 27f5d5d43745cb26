/**
 * Worker thread: a connection of the store's own (writer.ts). Role `write`: the writes of a batch (the record
 * of an imported file, a model run, a radiograph kind), each one IMMEDIATE transaction with its commit's fsync,
 * its staging and its audit row, 25-110 ms on a workstation disk; role `read` (a read-only connection): the
 * worklist pages, up to 120 ms of CPU at 100,000 studies (docs/persistence.md, "Main-thread blocking"). Here,
 * not on the thread that answers the UI. The process that started it holds the data-folder lock.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { writeKind } from './boneage';
import { StoreError } from './errors';
import { Store } from './store';
import type { WriterReply, WriterRequest, WriterStart } from './writer';

if (!parentPort) throw new Error('writer-worker must run as a worker thread');
const port = parentPort;
const start = workerData as WriterStart;

let store: Store | null = null;
let openError: unknown = null;
try {
  store = Store.open(start.dataDir, {
    purpose: start.role === 'write' ? 'store writer' : 'store reader',
    lockHeldByThisProcess: true,
    readonly: start.role === 'read',
  });
} catch (error) {
  openError = error;
}

function replyError(id: number, error: unknown): WriterReply {
  if (error instanceof StoreError)
    return { id, ok: false, code: error.code, problem: error.problem, message: error.message };
  return {
    id,
    ok: false,
    code: 'internal',
    problem: null,
    message: error instanceof Error ? error.message : String(error),
  };
}

port.on('message', (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    if (!store) throw openError;
    const value =
      request.method === 'insertImage'
        ? store.insertImage(request.input)
        : request.method === 'recordModelRun'
          ? store.recordModelRun(request.imageId, request.run, request.author)
          : request.method === 'writeKind'
            ? writeKind(store, request.imageId, request.kind)
            : store.listStudies(request.request);
    reply = { id: request.id, ok: true, value };
  } catch (error) {
    reply = replyError(request.id, error);
  }
  port.postMessage(reply);
});

port.on('close', () => store?.close());
