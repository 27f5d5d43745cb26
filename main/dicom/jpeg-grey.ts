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
import { readJpegFrameHeader } from './formats';
import { type Fn, startWasiModule, type WasmMemory } from './native-codecs';
import { compileWasm } from './wasm-compilation';

/** Where the module lives: main/dicom/wasm from source, <bundle>/wasm beside the CLI and app bundles. */
function jpegGreyWasmPath(): string {
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
/** Whether the module in use was compiled to baseline code only (wasm-compilation.ts); null before it loads. */
let compiledBaseline: boolean | null = null;

async function instantiate(): Promise<GreyApi | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(jpegGreyWasmPath());
  } catch {
    return null; // not shipped here: every JPEG goes to the full decoder
  }
  const { module, baseline } = compileWasm(bytes);
  compiledBaseline = baseline;
  return startWasiModule(
    module,
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

/**
 * How the module in use was compiled: baseline code only (see wasm-compilation.ts), or V8's default; null before
 * it loads.
 */
export function jpegGreyCompilation(): 'baseline' | 'default' | null {
  return compiledBaseline === null ? null : compiledBaseline ? 'baseline' : 'default';
}

/** Tests only: the next decode loads and compiles the module afresh. */
export function unloadJpegGreyModule(): void {
  current = undefined;
  loading = undefined;
  compiledBaseline = null;
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
  /** With `central`: how many pixels of that part hold each 8-bit grey value v (256 entries). */
  readonly centralCounts: Uint32Array | null;
}

/** Columns x0..x1 and rows y0..y1 (exclusive) of the image. */
export interface PixelRect {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

/**
 * Decodes the grey (or the luma of YCbCr) of an 8-bit sequential JPEG; null when the stream is of another
 * kind, damaged, or not decodable here (see the module comment). `central`: the module also counts the grey
 * values of that part of the image (the automatic window's histogram, without a JavaScript pass over the pixels).
 */
export async function decodeJpegGrey(
  encoded: Uint8Array,
  bits: 8 | 16,
  central: ((width: number, height: number) => PixelRect) | null = null,
): Promise<GreyJpeg | null> {
  const api = await load();
  if (!api) return null;
  let input = 0;
  let output = 0;
  try {
    input = call(api, 'jpeg_grey_alloc', encoded.length);
    if (input === 0) return null;
    new Uint8Array(api.memory.buffer, input, encoded.length).set(encoded);
    // The part to count is known from the frame header (the caller read it); the module checks it again.
    const rect = central ? central(...frameSize(encoded)) : { x0: 0, x1: 0, y0: 0, y1: 0 };
    output = call(
      api,
      'jpeg_grey_decode',
      input,
      encoded.length,
      bits === 16 ? 1 : 0,
      rect.x0,
      rect.x1,
      rect.y0,
      rect.y1,
    );
    if (output === 0 || call(api, 'jpeg_grey_warnings') > 0) return null;
    const width = call(api, 'jpeg_grey_width');
    const height = call(api, 'jpeg_grey_height');
    const data =
      bits === 16
        ? new Uint16Array(api.memory.buffer, output, width * height).slice()
        : new Uint8Array(api.memory.buffer, output, width * height).slice();
    const centralCounts = central
      ? new Uint32Array(api.memory.buffer, call(api, 'jpeg_grey_counts'), 256).slice()
      : null;
    return { width, height, data, centralCounts };
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

/** The width and height in the stream's frame header (0 x 0 when it has none: the module then refuses it). */
function frameSize(encoded: Uint8Array): [number, number] {
  const header = readJpegFrameHeader(encoded);
  return header ? [header.width, header.height] : [0, 0];
}

function isWasmTrap(error: unknown): boolean {
  return error instanceof Error && error.constructor.name === 'RuntimeError';
}
