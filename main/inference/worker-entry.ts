/**
 * Where the inference worker's code is. From source (tsx, vitest) it is worker.ts, loaded through tsx;
 * in the packaged app the main process is one esbuild bundle and the worker must be bundled beside it as
 * `inference-worker.cjs` (entry main/inference/worker.ts). CVM_INFERENCE_WORKER overrides both.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BUNDLED_WORKER_FILE = 'inference-worker.cjs';

export interface WorkerEntry {
  /** A file name, or with `eval` the code of a bootstrap script. */
  readonly file: string;
  readonly eval: boolean;
}

export function workerEntry(): WorkerEntry {
  if (process.env.CVM_INFERENCE_WORKER) return { file: path.resolve(process.env.CVM_INFERENCE_WORKER), eval: false };
  const self = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  const dir = path.dirname(self);
  if (self.endsWith('.ts')) {
    // `--import tsx` in a worker's execArgv does not hook the worker's own entry on node 20: register
    // tsx's loader from a bootstrap script instead, then import the TypeScript entry.
    const tsxApi = path.join(path.dirname(createRequire(self).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs');
    const worker = pathToFileURL(path.join(dir, 'worker.ts')).href;
    const code = `import(${JSON.stringify(pathToFileURL(tsxApi).href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); });`;
    return { file: code, eval: true };
  }
  const bundled = path.join(dir, BUNDLED_WORKER_FILE);
  if (!existsSync(bundled)) throw new Error(`the inference worker ${bundled} is missing from the app bundle`);
  return { file: bundled, eval: false };
}
