/** Worker thread: decodes image files so the main process never blocks on a slow codec. */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { jpegGreyHeapBytes } from './jpeg-grey';
import { nativeHeapBytes } from './native-codecs';
import { decodeImageFile } from './index';
import { ImageDecodeError } from './errors';
import type { DecodeReply, DecodeRequest } from './decoder-pool';
import { readDerivedPixels, writeDerivedPixels } from './pixel-cache';

if (!parentPort) throw new Error('decode-worker must run as a worker thread');
const port = parentPort;

/** This worker's JavaScript heap plus the codec modules' WebAssembly memories (which never shrink). */
const heapBytes = (): number => getHeapStatistics().used_heap_size + nativeHeapBytes() + jpegGreyHeapBytes();

port.on('message', (request: DecodeRequest) => {
  if (request.readDerivedOnly && request.derived) {
    const got = readDerivedPixels(request.derived.dataDir, request.derived.sourceSha256);
    const reply: DecodeReply =
      typeof got === 'string'
        ? {
            id: request.id,
            ok: false,
            code: 'not-found',
            fileName: request.fileName,
            problem: `no usable derived pixel copy (${got})`,
            heapBytes: heapBytes(),
          }
        : { id: request.id, ok: true, image: got, heapBytes: heapBytes() };
    port.postMessage(reply, typeof got === 'string' ? [] : [got.pixels.data.buffer as ArrayBuffer]);
    return;
  }
  void decodeImageFile(request.fileName, request.bytes, request.options).then(
    (image) => {
      if (request.derived) {
        // A copy that cannot be written now is made again on the image's next use; the decode itself succeeded.
        try {
          writeDerivedPixels(request.derived.dataDir, request.derived.sourceSha256, image);
        } catch {
          /* rebuilt later */
        }
      }
      const reply: DecodeReply = { id: request.id, ok: true, image, heapBytes: heapBytes() };
      port.postMessage(reply, [image.pixels.data.buffer as ArrayBuffer]);
    },
    (error: unknown) => {
      const reply: DecodeReply =
        error instanceof ImageDecodeError
          ? {
              id: request.id,
              ok: false,
              code: error.code,
              fileName: error.fileName,
              problem: error.problem,
              heapBytes: heapBytes(),
            }
          : {
              id: request.id,
              ok: false,
              code: 'internal',
              fileName: request.fileName,
              problem: error instanceof Error ? error.message : String(error),
              heapBytes: heapBytes(),
            };
      port.postMessage(reply);
    },
  );
});
