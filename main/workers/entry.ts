/**
 * Where a worker thread's code is. From source (tsx, vitest) it is a .ts file beside its caller, loaded
 * through tsx; in the packaged app the main process is one esbuild bundle and each worker is bundled beside
 * it as a .cjs file (see build/bundle-app.mjs). An environment variable can point elsewhere.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface WorkerEntry {
  /** A file name, or with `eval` the code of a bootstrap script. */
  readonly file: string;
  readonly eval: boolean;
}

/**
 * A module's file from its import.meta.url (ESM: tsx, vitest, the app's ESM bundle), else __filename
 * (a CommonJS bundle, where import.meta is empty). Checked in that order because an eval worker defines a
 * global __filename of "[worker eval]".
 */
export function modulePath(importMetaUrl: string | undefined): string {
  return importMetaUrl ? fileURLToPath(importMetaUrl) : __filename;
}

export interface WorkerLocation {
  /** The caller's own file: modulePath(import.meta.url). */
  readonly caller: string;
  /** The TypeScript entry beside the caller, when running from source. */
  readonly source: string;
  /** The bundled entry beside the main bundle. */
  readonly bundled: string;
  /** An environment variable that overrides both. */
  readonly env: string;
}

export function workerEntry(where: WorkerLocation): WorkerEntry {
  const override = process.env[where.env];
  if (override) return { file: path.resolve(override), eval: false };
  const self = where.caller;
  const dir = path.dirname(self);
  if (self.endsWith('.ts')) {
    // `--import tsx` in a worker's execArgv does not hook the worker's own entry on node 20: register
    // tsx's loader from a bootstrap script instead, then import the TypeScript entry.
    const tsxApi = path.join(
      path.dirname(createRequire(self).resolve('tsx/package.json')),
      'dist',
      'esm',
      'api',
      'index.mjs',
    );
    const entry = pathToFileURL(path.join(dir, where.source)).href;
    const code = `import(${JSON.stringify(pathToFileURL(tsxApi).href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    return { file: code, eval: true };
  }
  const bundled = path.join(dir, where.bundled);
  if (!existsSync(bundled)) throw new Error(`the worker ${bundled} is missing from the app bundle`);
  return { file: bundled, eval: false };
}
