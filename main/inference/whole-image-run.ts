/**
 * The whole-image models' sessions and runs, given ONNX Runtime: used by their worker thread
 * (whole-image-worker.ts), and by the landmark engine's worker where the command line analyses files
 * (worker.ts, InferenceEngine.runWholeImage: the radiograph-kind model, 245 KB, runs in milliseconds, which costs a
 * command less than a Node environment or an ONNX Runtime module started for it). One session per model file,
 * created on first use and kept for the thread's life; the file is hashed again before it is loaded.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as OrtModule from 'onnxruntime-node';
import { modulePath } from '../workers/entry';

type Ort = typeof OrtModule;

export interface WholeImageFeed {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type ToWholeImageWorker =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly file: string;
      readonly sha256: string;
      readonly feeds: readonly WholeImageFeed[];
      readonly output: string;
      /**
       * The file's bytes, read and checked against sha256 by the sender just before (the landmark engine's main
       * thread, on a model's first run there): the runner then neither reads nor hashes the file.
       */
      readonly bytes?: Uint8Array;
    }
  | { readonly type: 'crash' };

export type FromWholeImageWorker =
  | {
      readonly type: 'result';
      readonly id: number;
      readonly data: Float32Array;
      readonly dims: readonly number[];
      readonly runMs: number;
      readonly createMs: number | null;
    }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };

export interface WholeImageRunner {
  run(msg: Extract<ToWholeImageWorker, { type: 'run' }>): Promise<FromWholeImageWorker>;
}

export function wholeImageRunner(ort: Ort): WholeImageRunner {
  const sessions = new Map<string, OrtModule.InferenceSession>();
  ort.env.logLevel = 'fatal';

  /** The file's bytes, read and hashed here unless the sender gave them checked. */
  function checkedBytes(file: string, sha256: string, given: Uint8Array | undefined): Uint8Array {
    if (given) return given;
    const bytes = readFileSync(file);
    // Loaded here, not with the module: the landmark worker carries this module and starts on a cold command's
    // critical path, where node:crypto's 15 internal modules cost 3 ms. Through require: a dynamic import() in the
    // worker's CommonJS bundle starts Node's ESM loader (11 ms, measured).
    const { createHash } = createRequire(modulePath(import.meta.url))('node:crypto') as typeof import('node:crypto');
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256)
      throw new Error(`${file} changed since it was checked: sha256 is ${actual}, manifest says ${sha256}`);
    return bytes;
  }

  async function session(
    file: string,
    sha256: string,
    given: Uint8Array | undefined,
  ): Promise<{ s: OrtModule.InferenceSession; createMs: number | null }> {
    const key = `${file}\n${sha256}`;
    const cached = sessions.get(key);
    if (cached) return { s: cached, createMs: null };
    const t0 = performance.now();
    const bytes = checkedBytes(file, sha256, given);
    const s = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    sessions.set(key, s);
    return { s, createMs: performance.now() - t0 };
  }

  return {
    async run(msg) {
      try {
        const { s, createMs } = await session(msg.file, msg.sha256, msg.bytes);
        const feeds: Record<string, OrtModule.Tensor> = {};
        for (const f of msg.feeds) feeds[f.name] = new ort.Tensor('float32', f.data, [...f.shape]);
        const t0 = performance.now();
        const out = (await s.run(feeds))[msg.output];
        const runMs = performance.now() - t0;
        if (!out || !(out.data instanceof Float32Array))
          throw new Error(`${msg.file} returned no float32 "${msg.output}"`);
        return { type: 'result', id: msg.id, data: out.data, dims: [...out.dims], runMs, createMs };
      } catch (error) {
        return { type: 'failed', id: msg.id, message: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
