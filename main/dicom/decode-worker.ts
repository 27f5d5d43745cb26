/** Worker thread: decodes image files so the main process never blocks on a slow codec. */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { nativeHeapBytes } from './native-codecs';
import { decodeImageFile } from './index';
import { ImageDecodeError } from './errors';
import type { DecodeReply, DecodeRequest } from './decoder-pool';

if (!parentPort) throw new Error('decode-worker must run as a worker thread');
const port = parentPort;

/** This worker's JavaScript heap plus the codec module's WebAssembly memory (which never shrinks). */
const heapBytes = (): number => getHeapStatistics().used_heap_size + nativeHeapBytes();

port.on('message', (request: DecodeRequest) => {
  void decodeImageFile(request.fileName, request.bytes, request.options).then(
    (image) => {
      const reply: DecodeReply = { id: request.id, ok: true, image, heapBytes: heapBytes() };
      port.postMessage(reply, [image.pixels.data.buffer as ArrayBuffer]);
    },
    (error: unknown) => {
      const reply: DecodeReply = error instanceof ImageDecodeError
        ? { id: request.id, ok: false, code: error.code, fileName: error.fileName, problem: error.problem, heapBytes: heapBytes() }
        : { id: request.id, ok: false, code: 'internal', fileName: request.fileName, problem: error instanceof Error ? error.message : String(error), heapBytes: heapBytes() };
      port.postMessage(reply);
    },
  );
});
