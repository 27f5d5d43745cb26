/**
 * The loops of `cvm info`'s frame statistics (frameStatistics in pixels.ts): each chunk's range, and the counts of
 * each stored value over the automatic window's central part. In WebAssembly (main/dicom/wasm/frame-stats.wasm,
 * built from build/frame-stats/frame_stats.c by its build.sh; copied beside the bundles), because a new process
 * runs a JavaScript loop over millions of samples in V8's interpreter until the optimising compiler, on a
 * background thread, gets a turn: on a busy two-core machine that is most of the loop. WebAssembly is compiled
 * before its first call. The module's file missing or refused, the same loops run in JavaScript; both give the
 * same figures (test/dicom/frame-kernels.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { modulePath } from '../workers/entry';

/** The chunk, the counts and the loops over them: one per frame counted. */
export interface FrameKernels {
  readonly kind: 'wasm' | 'javascript';
  /** Where each chunk of samples (little-endian, bitsAllocated each) is read to. */
  readonly chunk: Uint8Array;
  /** Folds the range of the chunk's first n samples into min/max. */
  range(n: number): void;
  /** Counts each sample of the chunk's samples from..to-1 (indexes in samples). */
  count(from: number, to: number): void;
  readonly min: number;
  readonly max: number;
  /** The counts so far, 2^bitsAllocated entries (a copy out of the module). */
  counts(): Uint32Array;
}

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly range16: (p: number, n: number, min: number, max: number) => number;
  readonly range8: (p: number, n: number, min: number, max: number) => number;
  readonly count16: (p: number, from: number, to: number, counts: number) => void;
  readonly count8: (p: number, from: number, to: number, counts: number) => void;
}

let compiled: WebAssembly.Module | null | undefined;

/** Where the module lives: main/dicom/wasm from source, <bundle>/wasm beside the CLI and app bundles. */
export function frameStatsWasmPath(): string {
  return path.join(path.dirname(modulePath(import.meta.url)), 'wasm', 'frame-stats.wasm');
}

function compile(file: string): WebAssembly.Module | null {
  try {
    return new WebAssembly.Module(readFileSync(file));
  } catch {
    return null; // not shipped here, or refused: the JavaScript loops
  }
}

function module(): WebAssembly.Module | null {
  if (compiled === undefined) compiled = compile(frameStatsWasmPath());
  return compiled;
}

/* eslint-disable @typescript-eslint/no-non-null-assertion --
   the loops index samples within 0..n-1 (n is at most the chunk's length) and counts by a sample value,
   and counts holds 2^bitsAllocated entries */
function javascriptKernels(bitsAllocated: 8 | 16, chunkBytes: number): FrameKernels {
  const chunk = new Uint8Array(chunkBytes);
  const samples = bitsAllocated === 16 ? new Uint16Array(chunk.buffer, 0, chunkBytes >> 1) : chunk;
  const counts = new Uint32Array(2 ** bitsAllocated);
  let min = Infinity;
  let max = -Infinity;
  return {
    kind: 'javascript',
    chunk,
    range(n) {
      let lo = min;
      let hi = max;
      for (let i = 0; i < n; i++) {
        const v = samples[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      min = lo;
      max = hi;
    },
    count(from, to) {
      for (let i = from; i < to; i++) counts[samples[i]!]!++;
    },
    get min() {
      return min;
    },
    get max() {
      return max;
    },
    counts: () => counts.slice(),
  };
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */

function wasmKernels(compiledModule: WebAssembly.Module, bitsAllocated: 8 | 16, chunkBytes: number): FrameKernels {
  const k = new WebAssembly.Instance(compiledModule, {}).exports as unknown as KernelExports;
  const countsBytes = 4 * 2 ** bitsAllocated;
  // Memory of its own past the module's (stack and data), for the counts and then the chunk.
  const base = k.memory.grow(Math.ceil((countsBytes + chunkBytes) / 65536)) * 65536;
  const countsAt = base;
  const chunkAt = base + countsBytes;
  const chunk = new Uint8Array(k.memory.buffer, chunkAt, chunkBytes);
  const range = bitsAllocated === 16 ? k.range16 : k.range8;
  const count = bitsAllocated === 16 ? k.count16 : k.count8;
  const top = 2 ** bitsAllocated - 1;
  let seen = false;
  let min = top;
  let max = 0;
  return {
    kind: 'wasm',
    chunk,
    range(n) {
      if (n <= 0) return;
      const packed = range(chunkAt, n, min, max) >>> 0;
      min = packed >>> 16;
      max = packed & 0xffff;
      seen = true;
    },
    count(from, to) {
      if (from < to) count(chunkAt, from, to, countsAt);
    },
    get min() {
      return seen ? min : Infinity;
    },
    get max() {
      return seen ? max : -Infinity;
    },
    counts: () => new Uint32Array(k.memory.buffer, countsAt, 2 ** bitsAllocated).slice(),
  };
}

/**
 * Kernels for samples of bitsAllocated bits, read chunkBytes at a time. Tests only: `javascript` forces the
 * JavaScript loops, `wasmFile` loads the module from another file (uncached).
 */
export function frameKernels(
  bitsAllocated: 8 | 16,
  chunkBytes: number,
  options: { readonly javascript?: boolean; readonly wasmFile?: string } = {},
): FrameKernels {
  const compiledModule = options.javascript
    ? null
    : options.wasmFile !== undefined
      ? compile(options.wasmFile)
      : module();
  if (compiledModule) {
    try {
      return wasmKernels(compiledModule, bitsAllocated, chunkBytes);
    } catch {
      // Memory refused (a limit far below 2 MB): the JavaScript loops.
    }
  }
  return javascriptKernels(bitsAllocated, chunkBytes);
}
