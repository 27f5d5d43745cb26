// What the command line's and the app's bundles share (build/bundle-cli.mjs, build/bundle-app.mjs): the
// packages left external, the banner that gives an ESM bundle a real require(), the worker entries, and the
// WebAssembly modules the project ships itself (main/dicom/wasm), copied beside the bundles.
import { cpSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Native and WebAssembly-carrying packages: loaded from node_modules only by the chunks that use them. */
export const EXTERNAL = ['electron', 'better-sqlite3', 'onnxruntime-node', '@cornerstonejs/*', 'dcmjs-imaging', 'ws'];

/** Bundled CommonJS dependencies call require(); this gives an ESM bundle a real one. */
export const ESM_REQUIRE_BANNER = {
  js: "import { createRequire as __cvmCreateRequire } from 'node:module'; const require = __cvmCreateRequire(import.meta.url);",
};

/** The worker threads both bundles start (the app adds its store writer). */
export const WORKER_ENTRIES = {
  'inference-worker': 'main/inference/worker.ts',
  'whole-image-worker': 'main/inference/whole-image-worker.ts',
  'decode-worker': 'main/dicom/decode-worker.ts',
};

/** The options of a CommonJS worker bundle: modules that locate their files fall back to __filename there. */
export const WORKER_OPTIONS = {
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  logOverride: { 'empty-import-meta': 'silent' },
};

/** main/dicom/wasm (the grey JPEG decoder and its licence notices) to <outdir>/wasm, where main/dicom/jpeg-grey.ts looks. */
export function copyWasm(outdir) {
  cpSync(path.join(ROOT, 'main', 'dicom', 'wasm'), path.join(outdir, 'wasm'), { recursive: true });
}

/**
 * dicom-parser requires node's zlib as it loads, for deflated data sets, which main/dicom/parse.ts inflates itself.
 * This plugin gives dicom-parser (and only it) a zlib that loads on first use, so a command that opens no deflated
 * file (`cvm info` on a DICOM file) does not load zlib and the stream modules under it at start.
 */
export const LAZY_ZLIB_FOR_DICOM_PARSER = {
  name: 'lazy-zlib-for-dicom-parser',
  setup(build) {
    build.onResolve({ filter: /^zlib$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}dicom-parser${path.sep}`)
        ? { path: 'zlib', namespace: 'lazy-zlib' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-zlib' }, () => ({
      contents:
        "let zlib; const load = () => (zlib ??= require('node:zlib'));\n" +
        'module.exports = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });\n',
      loader: 'js',
      resolveDir: ROOT,
    }));
  },
};
