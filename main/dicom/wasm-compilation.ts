/**
 * How this process compiles the grey JPEG module (jpeg-grey.ts). V8 compiles WebAssembly to baseline code
 * (Liftoff) first and recompiles the functions that run hot with its optimising compiler (TurboFan) in the
 * background. That pays back over many decodes, but a process that decodes a single JPEG (a cold `cvm analyze`
 * of one file, `cvm info` of a JPEG) pays the recompiling and never profits: measured in new processes on the
 * 1935x2400 ISBI JPEG, the first decode took 390-430 ms of CPU with the recompiling and 210-270 ms with baseline
 * code only (the steady state is 15-20% slower on baseline code: 72-78 ms against 58-64 ms). The command line
 * asks for baseline code where it decodes one image in its own thread; the app and batch decoders keep V8's default.
 */
import { createRequire } from 'node:module';
import { modulePath } from '../workers/entry';

let baselineOnly = false;

/** From now on this process compiles the grey JPEG module (if not yet compiled) to baseline code only. */
export function preferBaselineWasm(): void {
  baselineOnly = true;
}

/**
 * Compiles `bytes` to baseline code only when preferred (V8's --liftoff-only, set for this synchronous compile
 * and cleared after it, so modules compiled later keep the default), else as V8 does by default.
 */
export function compileWasm(bytes: Uint8Array): { module: WebAssembly.Module; baseline: boolean } {
  const given = process.execArgv.some((a) => a.includes('liftoff-only'));
  if (!baselineOnly || given) return { module: new WebAssembly.Module(bytes), baseline: given };
  // node:v8 is loaded here only, on the first compile that needs it.
  const v8 = createRequire(modulePath(import.meta.url))('node:v8') as typeof import('node:v8');
  v8.setFlagsFromString('--liftoff-only');
  try {
    return { module: new WebAssembly.Module(bytes), baseline: true };
  } finally {
    v8.setFlagsFromString('--no-liftoff-only');
  }
}
