/**
 * Where the inference worker's code is (and other facts only the main thread can find from its module path). From source (tsx, vitest) it is worker.ts, loaded through tsx;
 * in the packaged app the main process is one esbuild bundle and the worker must be bundled beside it as
 * `inference-worker.cjs` (entry main/inference/worker.ts). CVM_INFERENCE_WORKER overrides both.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BUNDLED_WORKER_FILE = 'inference-worker.cjs';

/** Says when onnxruntime-node's CUDA provider library is not installed at all (its install step downloads it). */
export function cudaLibraryHint(): string {
  try {
    const pkg = path.dirname(path.dirname(createRequire(modulePath(import.meta.url)).resolve('onnxruntime-node'))); // <pkg>/dist/index.js
    const dir = path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return existsSync(path.join(dir, lib)) ? '' : ` (${lib} is not installed beside onnxruntime-node: its install step that downloads the CUDA provider was skipped or failed)`;
  } catch {
    return '';
  }
}

export interface WorkerEntry {
  /** A file name, or with `eval` the code of a bootstrap script. */
  readonly file: string;
  readonly eval: boolean;
}

/**
 * This module's file from its import.meta.url (ESM: tsx, vitest, the app's ESM bundle), else __filename
 * (a CommonJS bundle, where import.meta is empty). Checked in that order because an eval worker defines a
 * global __filename of "[worker eval]".
 */
export function modulePath(importMetaUrl: string | undefined): string {
  return importMetaUrl ? fileURLToPath(importMetaUrl) : __filename;
}

export function workerEntry(): WorkerEntry {
  if (process.env.CVM_INFERENCE_WORKER) return { file: path.resolve(process.env.CVM_INFERENCE_WORKER), eval: false };
  const self = modulePath(import.meta.url);
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
