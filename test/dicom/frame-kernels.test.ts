/**
 * The loops of `cvm info`'s frame statistics (main/dicom/frame-kernels.ts): the WebAssembly module and the
 * JavaScript loops give the same range and counts, chunk after chunk, for 8 and 16 bits, including the extreme
 * values; the module is the one used when it is there; a missing or damaged module falls back to JavaScript.
 * (test/dicom/native-summary.test.ts checks the summaries built on them against a full decode.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frameKernels, type FrameKernels } from '../../main/dicom/frame-kernels';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-frame-kernels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Feeds the same chunks to a kernel set: the range of each whole chunk, the counts of a part of each. */
function run(kernels: FrameKernels, chunks: readonly Uint8Array[], bytesPerSample: number) {
  for (const chunk of chunks) {
    kernels.chunk.set(chunk);
    const n = chunk.length / bytesPerSample;
    kernels.range(n);
    kernels.count(Math.floor(n / 5), Math.floor((4 * n) / 5));
    kernels.count(n - 1, n);
    kernels.count(3, 3); // empty
  }
  return { min: kernels.min, max: kernels.max, counts: kernels.counts() };
}

function randomChunks(bits: 8 | 16, chunkBytes: number, chunks: number, seed: number): Uint8Array[] {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648);
  return Array.from({ length: chunks }, (_, c) => {
    const bytes = new Uint8Array(c === chunks - 1 ? chunkBytes / 2 : chunkBytes); // a short last chunk
    for (let i = 0; i < bytes.length; i++) bytes[i] = next() >> 8;
    return bytes;
  }).map((bytes, c) => {
    // The extremes, in different chunks, so the running range is carried across calls.
    if (c === 1) bytes.fill(0, 8, 8 + bits / 8);
    if (c === 2) bytes.fill(255, 16, 16 + bits / 8);
    return bytes;
  });
}

describe('frame statistics kernels', () => {
  for (const bits of [8, 16] as const) {
    it(`WebAssembly and JavaScript agree on ${bits}-bit samples`, () => {
      const chunkBytes = 4096;
      const chunks = randomChunks(bits, chunkBytes, 4, 7 + bits);
      const wasm = frameKernels(bits, chunkBytes);
      expect(wasm.kind).toBe('wasm');
      const js = frameKernels(bits, chunkBytes, { javascript: true });
      expect(js.kind).toBe('javascript');
      const a = run(wasm, chunks, bits / 8);
      const b = run(js, chunks, bits / 8);
      expect(a.min).toBe(0);
      expect(a.max).toBe(2 ** bits - 1);
      expect(a).toEqual(b);
      expect(a.counts.length).toBe(2 ** bits);
      expect(a.counts.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    });
  }

  it('a narrow range stays narrow (no extremes leak from the start values)', () => {
    const chunk = new Uint8Array(new Uint16Array([300, 301, 299, 305]).buffer);
    for (const kernels of [frameKernels(16, 8), frameKernels(16, 8, { javascript: true })]) {
      kernels.chunk.set(chunk);
      kernels.range(4);
      expect([kernels.min, kernels.max], kernels.kind).toEqual([299, 305]);
    }
  });

  it('the extremes count wherever they lie: in the vector steps, the tail, a single sample', () => {
    // The module's range runs four vectors (32 or 64 samples) a step and the rest one sample at a time.
    for (const bits of [8, 16] as const) {
      const top = 2 ** bits - 1;
      for (const n of [1, 7, 31, 32, 33, 63, 64, 65, 95, 129, 1000]) {
        for (const at of [0, Math.floor(n / 2), n - 1]) {
          const samples = bits === 16 ? new Uint16Array(n).fill(500) : new Uint8Array(n).fill(100);
          samples[at] = top;
          samples[(at + 1 + Math.floor(n / 3)) % n] = 0; // elsewhere, but for n = 1
          for (const kernels of [frameKernels(bits, 2048), frameKernels(bits, 2048, { javascript: true })]) {
            kernels.chunk.set(new Uint8Array(samples.buffer));
            kernels.range(n);
            const expected = n === 1 ? [0, 0] : [0, top];
            expect([kernels.min, kernels.max], `${kernels.kind} ${bits} bits, n ${n}, at ${at}`).toEqual(expected);
          }
        }
      }
    }
  });

  it('no samples: the range is empty in both', () => {
    for (const kernels of [frameKernels(16, 8), frameKernels(16, 8, { javascript: true })]) {
      kernels.range(0);
      expect([kernels.min, kernels.max], kernels.kind).toEqual([Infinity, -Infinity]);
    }
  });

  it('a missing or damaged module falls back to the JavaScript loops, with the same figures', () => {
    const damaged = path.join(dir, 'damaged.wasm');
    writeFileSync(damaged, Buffer.from('\0asm not a module'));
    const chunks = randomChunks(16, 2048, 3, 99);
    const expected = run(frameKernels(16, 2048), chunks, 2);
    for (const wasmFile of [path.join(dir, 'missing.wasm'), damaged]) {
      const kernels = frameKernels(16, 2048, { wasmFile });
      expect(kernels.kind).toBe('javascript');
      expect(run(kernels, chunks, 2)).toEqual(expected);
    }
  });
});
