/** Worker thread: decodes image files so the main process never blocks on a slow codec. */
import { parentPort } from 'node:worker_threads';
import { decodeImageFile } from './index';
import { ImageDecodeError } from './errors';
import type { DecodeReply, DecodeRequest } from './decoder-pool';

if (!parentPort) throw new Error('decode-worker must run as a worker thread');
const port = parentPort;

port.on('message', (request: DecodeRequest) => {
  void decodeImageFile(request.fileName, request.bytes, request.options).then(
    (image) => {
      const reply: DecodeReply = { id: request.id, ok: true, image };
      port.postMessage(reply, [image.pixels.data.buffer as ArrayBuffer]);
    },
    (error: unknown) => {
      const reply: DecodeReply = error instanceof ImageDecodeError
        ? { id: request.id, ok: false, code: error.code, fileName: error.fileName, problem: error.problem }
        : { id: request.id, ok: false, code: 'internal', fileName: request.fileName, problem: error instanceof Error ? error.message : String(error) };
      port.postMessage(reply);
    },
  );
});
