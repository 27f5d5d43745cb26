/**
 * Grey JPEG decoding through libjpeg-turbo's decoder, built to WebAssembly by build/jpeg-grey/build.sh
 * (main/dicom/wasm/jpeg-grey.wasm, licence notices beside it; copied next to the bundles by the bundling
 * scripts). It takes 8-bit sequential Huffman JPEG (baseline and extended) with one component, or YCbCr of which
 * it reconstructs only the luma (libjpeg-turbo skips the chroma's inverse DCT, upsampling and colour
 * conversion), with the accurate integer inverse DCT, and writes the grey values in the module itself.
 *
 * The values are those of the full decoder (dcmjs-imaging's IJG libjpeg: same inverse DCT, and the luma of
 * YCbCr is its first component; test/dicom/jpeg-grey.test.ts compares them). Anything else, and any stream the
 * decoder reports damage in or cannot decode, returns null: the caller then decodes with the full decoder,
 * which words the damage and errors as before.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { modulePath } from '../workers/entry';
import { type Fn, startWasiModule, type WasmMemory } from './native-codecs';

/** Where the module lives: main/dicom/wasm from source, <bundle>/wasm beside the CLI and app bundles. */
export function jpegGreyWasmPath(): string {
  return path.join(path.dirname(modulePath(import.meta.url)), 'wasm', 'jpeg-grey.wasm');
}

interface GreyApi {
  readonly memory: WasmMemory;
  readonly fn: Record<string, Fn>;
}

/** Thrown by the module's error handler through its frames; the instance is discarded after it. */
class JpegGreyFailure extends Error {}

let loading: Promise<GreyApi | null> | undefined;
let current: GreyApi | undefined;

async function instantiate(): Promise<GreyApi | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(jpegGreyWasmPath());
  } catch {
    return null; // not shipped here: every JPEG goes to the full decoder
  }
  return startWasiModule(
    bytes,
    (text) => ({
      jpeg_grey_error: (ptr, len) => {
        throw new JpegGreyFailure(text(ptr, len));
      },
      // Warnings are counted in the module (jpeg_grey_warnings); their wording is the full decoder's business.
      jpeg_grey_warning: () => undefined,
    }),
    (code) => new JpegGreyFailure(`the grey JPEG module exited with code ${code}`),
  );
}

function load(): Promise<GreyApi | null> {
  loading ??= instantiate().then((api) => {
    current = api ?? undefined;
    return api;
  });
  return loading;
}

function call(api: GreyApi, name: string, ...args: number[]): number {
  const f = api.fn[name];
  if (!f) throw new JpegGreyFailure(`the grey JPEG module lacks ${name}`);
  return f(...args);
}

/** Bytes of the module's WebAssembly memory (0 when not loaded). */
export function jpegGreyHeapBytes(): number {
  return current?.memory.buffer.byteLength ?? 0;
}

export interface GreyJpeg {
  readonly width: number;
  readonly height: number;
  /** width x height values: v * 257 (0..65535) when asked for 16 bits, else the 8-bit samples. */
  readonly data: Uint16Array | Uint8Array;
}

/**
 * Decodes the grey (or the luma of YCbCr) of an 8-bit sequential JPEG; null when the stream is of another
 * kind, damaged, or not decodable here (see the module comment).
 */
export async function decodeJpegGrey(encoded: Uint8Array, bits: 8 | 16): Promise<GreyJpeg | null> {
  const api = await load();
  if (!api) return null;
  let input = 0;
  let output = 0;
  try {
    input = call(api, 'jpeg_grey_alloc', encoded.length);
    if (input === 0) return null;
    new Uint8Array(api.memory.buffer, input, encoded.length).set(encoded);
    output = call(api, 'jpeg_grey_decode', input, encoded.length, bits === 16 ? 1 : 0);
    if (output === 0 || call(api, 'jpeg_grey_warnings') > 0) return null;
    const width = call(api, 'jpeg_grey_width');
    const height = call(api, 'jpeg_grey_height');
    const data =
      bits === 16
        ? new Uint16Array(api.memory.buffer, output, width * height).slice()
        : new Uint8Array(api.memory.buffer, output, width * height).slice();
    return { width, height, data };
  } catch (error) {
    // A libjpeg error unwound through the module's frames: its heap may be inconsistent, so it is loaded
    // afresh next time, and this stream goes to the full decoder, which reports the problem in its words.
    if (current === api) {
      current = undefined;
      loading = undefined;
    }
    if (error instanceof JpegGreyFailure || isWasmTrap(error)) return null;
    throw error;
  } finally {
    if (current === api) {
      if (output !== 0) call(api, 'jpeg_grey_free', output);
      if (input !== 0) call(api, 'jpeg_grey_free', input);
    }
  }
}

function isWasmTrap(error: unknown): boolean {
  return error instanceof Error && error.constructor.name === 'RuntimeError';
}
