/**
 * Thin binding to the WebAssembly codecs shipped in the npm package dcmjs-imaging
 * (build/dcmjs-native-codecs.wasm: IJG libjpeg 8/12/16-bit incl. lossless, CharLS, OpenJPEG, RLE).
 * The module is a WASI reactor with a small C API (CreateCodecsContext, Set*, Decode*, Get*), so we load
 * the .wasm ourselves and call it directly; nothing is downloaded, and the .wasm is read with fs,
 * which also works from inside an Electron asar archive.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** Order of the photometric enum in the C API. */
const PHOTOMETRIC_CODES = [
  'MONOCHROME1',
  'MONOCHROME2',
  'PALETTE COLOR',
  'RGB',
  'YBR_FULL',
  'YBR_FULL_422',
  'YBR_PARTIAL_422',
  'YBR_PARTIAL_420',
  'YBR_ICT',
  'YBR_RCT',
] as const;

export type NativeCodec = 'DecodeRle' | 'DecodeJpeg' | 'DecodeJpegLs' | 'DecodeJpeg2000' | 'DecodeHtJpeg2000';

export interface NativeFrame {
  readonly width: number;
  readonly height: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly samplesPerPixel: number;
  readonly pixelRepresentation: number;
  readonly planarConfiguration: number;
  readonly photometric: string;
}

export interface NativeDecoded {
  /** Decoded samples, little-endian, bitsAllocated per sample (8 or 16), interleaved unless planar. */
  readonly bytes: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly bitsAllocated: number;
  readonly samplesPerPixel: number;
  readonly planarConfiguration: number;
  readonly photometric: string;
  /** What the codec said about damage it worked around (truncated data, corrupt markers), deduplicated. */
  readonly warnings: readonly string[];
}

export type Fn = (...args: number[]) => number;
// main/ compiles without the DOM lib, which is where TypeScript declares WebAssembly.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmGlobal {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>;
  instantiate(module: WebAssembly.Module, imports: object): Promise<{ exports: Record<string, unknown> }>;
}
const wasmGlobal = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;
interface WasmApi {
  readonly memory: WasmMemory;
  readonly fn: Record<string, Fn>;
}

/** Where the codec module lives: resolvable from node_modules in development, tests and the packaged app. */
export function nativeCodecsWasmPath(): string {
  // ESM first: inside a worker started from code, a global `__filename` ('[worker eval]') is not this file.
  // In the CommonJS bundle import.meta is empty and __filename is right.
  const base = (import.meta as { url?: string }).url ?? __filename;
  return createRequire(base).resolve('dcmjs-imaging/build/dcmjs-native-codecs.wasm');
}

/** Messages of the decode in progress (decodes run one at a time: each awaits nothing inside). */
let messages: Map<string, number> | null = null;

/** libjpeg, CharLS and OpenJPEG report recoverable damage as informational messages; keep those. */
const DAMAGE = /corrupt|premature|unexpected marker|invalid|bogus|truncat|warning|inconsistent|error/i;

function collectDamage(into: Map<string, number>, message: string): void {
  const text = message
    .replace(/^\w+::EmitMessage::/, '')
    .replace(/\d+ extraneous bytes/, 'extraneous bytes')
    .trim();
  if (!DAMAGE.test(text)) return;
  into.set(text, (into.get(text) ?? 0) + 1);
}

function damageSummary(found: Map<string, number>): string[] {
  return [...found].map(([text, n]) => (n > 1 ? `${text} (${n} times)` : text));
}

/** Bytes of the codec module's WebAssembly memory, which only ever grows (0 when not loaded). */
export function nativeHeapBytes(): number {
  return current?.memory.buffer.byteLength ?? 0;
}

let loading: Promise<WasmApi> | undefined;
let current: WasmApi | undefined;

function loadWasm(): Promise<WasmApi> {
  loading ??= instantiate().then(
    (api) => {
      current = api;
      return api;
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

function discardModule(api: WasmApi): void {
  if (current !== api) return;
  current = undefined;
  loading = undefined;
}

/**
 * The WASI functions an Emscripten-built standalone module imports (it never uses files, clocks or the
 * environment; a write is reported as done), and the memory-growth notice.
 */
function wasiStubs(
  memory: () => WasmMemory | undefined,
  exit: (code: number) => never,
): { env: Record<string, () => undefined>; wasi_snapshot_preview1: Record<string, (...args: number[]) => number> } {
  const zero = (...pointers: number[]): number => {
    const current = memory();
    if (current) for (const p of pointers) new DataView(current.buffer).setUint32(p, 0, true);
    return 0;
  };
  return {
    env: { emscripten_notify_memory_growth: () => undefined },
    wasi_snapshot_preview1: {
      proc_exit: exit,
      clock_time_get: () => 0,
      fd_write: (_fd, _iovs, _count, written) => zero(written),
      fd_close: () => 0,
      fd_seek: () => 0,
      environ_sizes_get: (count, size) => zero(count, size),
      environ_get: () => 0,
    },
  };
}

/** Instantiates a WebAssembly module (the DOM lib, which declares WebAssembly, is not in main/'s types). */
async function instantiateWasm(
  bytes: Uint8Array | WebAssembly.Module,
  imports: object,
): Promise<{ memory: WasmMemory; fn: Record<string, Fn> }> {
  const instance =
    bytes instanceof WebAssembly.Module
      ? await wasmGlobal.instantiate(bytes, imports)
      : (await wasmGlobal.instantiate(bytes, imports)).instance;
  const fn: Record<string, Fn> = {};
  for (const [name, value] of Object.entries(instance.exports)) if (typeof value === 'function') fn[name] = value as Fn;
  return { memory: instance.exports.memory as WasmMemory, fn };
}

/**
 * Starts an Emscripten-built standalone module (this codec module, ./jpeg-grey's): the WASI stubs, the module's
 * own `env` imports (given `text`, which reads a latin1 string from its memory), and `exited` for the error a
 * call of exit() throws through its frames. Shared with ./jpeg-grey. `bytes` may be a module compiled already.
 */
export async function startWasiModule(
  bytes: Uint8Array | WebAssembly.Module,
  env: (text: (ptr: number, len: number) => string) => Record<string, (...args: number[]) => unknown>,
  exited: (code: number) => Error,
): Promise<{ memory: WasmMemory; fn: Record<string, Fn> }> {
  // Assigned once the module is instantiated; the closures below read it only after that.
  // eslint-disable-next-line prefer-const
  let memory: WasmMemory | undefined;
  const text = (ptr: number, len: number): string =>
    memory ? Buffer.from(memory.buffer, ptr, len).toString('latin1') : '';
  const stubs = wasiStubs(
    () => memory,
    (code) => {
      throw exited(code);
    },
  );
  const api = await instantiateWasm(bytes, {
    env: { ...stubs.env, ...env(text) },
    wasi_snapshot_preview1: stubs.wasi_snapshot_preview1,
  });
  memory = api.memory;
  api.fn._initialize?.();
  return api;
}

async function instantiate(): Promise<WasmApi> {
  return startWasiModule(
    await readFile(nativeCodecsWasmPath()),
    (text) => ({
      onCodecsException: (ptr, len) => {
        throw new CodecError(text(ptr, len));
      },
      onCodecsInfo: (ptr, len) => {
        if (messages) collectDamage(messages, text(ptr, len));
      },
      onCodecsTrace: () => undefined,
    }),
    (code) => new CodecError(`codec module exited with code ${code}`),
  );
}

/** A failure reported by the codec itself (bad bitstream, unsupported coding). */
export class CodecError extends Error {}

function call(api: WasmApi, name: string, ...args: number[]): number {
  const f = api.fn[name];
  if (!f) throw new CodecError(`codec module lacks ${name}`);
  return f(...args);
}

/** Loads the codec module now (it is loaded on first use otherwise). */
export async function initNativeCodecs(): Promise<void> {
  await loadWasm();
}

/**
 * Decodes one encapsulated frame. `convertToRgb` asks the codec to convert YBR colour to RGB
 * (JPEG baseline colour); the returned photometric says what the samples are.
 */
export async function nativeDecode(
  codec: NativeCodec,
  encoded: Uint8Array,
  frame: NativeFrame,
  convertToRgb: boolean,
): Promise<NativeDecoded> {
  const api = await loadWasm();
  const ctx = call(api, 'CreateCodecsContext');
  const params = call(api, 'CreateDecoderParameters');
  const found = new Map<string, number>();
  messages = found;
  try {
    describeFrame(api, ctx, frame);
    call(api, 'SetConvertColorspaceToRgb', params, convertToRgb ? 1 : 0);
    const bytes = runCodec(api, ctx, params, codec, encoded, 'Encoded', 'Decoded');
    const code = call(api, 'GetPhotometricInterpretation', ctx);
    return {
      bytes,
      width: call(api, 'GetColumns', ctx),
      height: call(api, 'GetRows', ctx),
      bitsAllocated: call(api, 'GetBitsAllocated', ctx),
      samplesPerPixel: call(api, 'GetSamplesPerPixel', ctx),
      planarConfiguration: call(api, 'GetPlanarConfiguration', ctx),
      photometric: PHOTOMETRIC_CODES[code] ?? frame.photometric,
      warnings: damageSummary(found),
    };
  } catch (error) {
    throw codecFailure(api, error);
  } finally {
    messages = null;
    if (current === api) {
      call(api, 'ReleaseDecoderParameters', params);
      call(api, 'ReleaseCodecsContext', ctx);
    }
  }
}

export type NativeEncoder = 'EncodeRle' | 'EncodeJpeg' | 'EncodeJpegLs' | 'EncodeJpeg2000';

export interface EncodeOptions {
  readonly lossy?: boolean;
  /** JPEG lossy quality, 1..100. */
  readonly quality?: number;
  /** JPEG-LS NEAR: the largest error allowed per sample (0: lossless). */
  readonly allowedLossyError?: number;
  /** JPEG 2000 lossy compression ratio. */
  readonly rate?: number;
  /** JPEG lossy colour: chroma at full resolution (4:4:4, the default) or halved across (4:2:2). */
  readonly chroma?: '444' | '422';
}

/**
 * After a failed call: an error unwinds through the module's frames and may leave its heap inconsistent, so
 * the module is discarded and loaded afresh next time; a trap inside it (e.g. out of bounds on a corrupt
 * stream) is a bad bitstream too.
 */
function codecFailure(api: WasmApi, error: unknown): CodecError {
  discardModule(api);
  if (error instanceof CodecError) return error;
  return new CodecError(`the codec stopped (${error instanceof Error ? error.message : String(error)})`);
}

/**
 * Copies `input` into the context's `from` buffer, runs `codec` and returns a copy of its `to` buffer (decoding:
 * encoded -> decoded; encoding: the reverse).
 */
function runCodec(
  api: WasmApi,
  ctx: number,
  params: number,
  codec: NativeCodec | NativeEncoder,
  input: Uint8Array,
  from: 'Encoded' | 'Decoded',
  to: 'Encoded' | 'Decoded',
): Uint8Array {
  call(api, `Set${from}BufferSize`, ctx, input.length);
  new Uint8Array(api.memory.buffer, call(api, `Get${from}Buffer`, ctx), input.length).set(input);
  call(api, codec, ctx, params);
  const size = call(api, `Get${to}BufferSize`, ctx);
  return new Uint8Array(api.memory.buffer, call(api, `Get${to}Buffer`, ctx), size).slice();
}

/** Tells the codec context the frame's geometry and sample layout (shared by decoding and encoding). */
function describeFrame(api: WasmApi, ctx: number, frame: NativeFrame): void {
  const photometricCode = PHOTOMETRIC_CODES.indexOf(frame.photometric as (typeof PHOTOMETRIC_CODES)[number]);
  call(api, 'SetColumns', ctx, frame.width);
  call(api, 'SetRows', ctx, frame.height);
  call(api, 'SetBitsAllocated', ctx, frame.bitsAllocated);
  call(api, 'SetBitsStored', ctx, frame.bitsStored);
  call(api, 'SetSamplesPerPixel', ctx, frame.samplesPerPixel);
  call(api, 'SetPixelRepresentation', ctx, frame.pixelRepresentation);
  call(api, 'SetPlanarConfiguration', ctx, frame.planarConfiguration);
  call(api, 'SetPhotometricInterpretation', ctx, photometricCode < 0 ? 1 : photometricCode);
}

/**
 * Encodes one frame with the same module (used to make test fixtures and benchmark inputs).
 * `frame.bytes` are little-endian samples, interleaved.
 */
export async function nativeEncode(
  codec: NativeEncoder,
  bytes: Uint8Array,
  frame: NativeFrame,
  options: EncodeOptions = {},
): Promise<Uint8Array> {
  const api = await loadWasm();
  const ctx = call(api, 'CreateCodecsContext');
  const params = call(api, 'CreateEncoderParameters');
  try {
    describeFrame(api, ctx, frame);
    call(api, 'SetLossy', params, options.lossy ? 1 : 0);
    call(api, 'SetQuality', params, options.quality ?? 90);
    call(api, 'SetSmoothingFactor', params, 0);
    call(api, 'SetSampleFactor', params, options.chroma === '422' ? 1 : 0);
    call(api, 'SetPredictor', params, 1);
    call(api, 'SetPointTransform', params, 0);
    call(api, 'SetAllowedLossyError', params, options.allowedLossyError ?? 0);
    call(api, 'SetProgressionOrder', params, 0);
    call(api, 'SetRate', params, options.rate ?? 20);
    call(api, 'SetAllowMct', params, 1);
    return runCodec(api, ctx, params, codec, bytes, 'Decoded', 'Encoded');
  } catch (error) {
    throw codecFailure(api, error);
  } finally {
    if (current === api) {
      call(api, 'ReleaseEncoderParameters', params);
      call(api, 'ReleaseCodecsContext', ctx);
    }
  }
}
