// Bundles the Electron main process (ESM), its inference worker (CommonJS) and its sandboxed preload
// (CommonJS, as sandboxed preloads must be) under dist/app. Native and WebAssembly-carrying packages stay
// external: electron-builder ships them from node_modules, unpacked from the asar.
import { build } from 'esbuild';

const external = ['electron', 'better-sqlite3', 'onnxruntime-node', '@cornerstonejs/*', 'dcmjs-imaging', 'ws'];
const common = { bundle: true, platform: 'node', target: 'node22', sourcemap: true, logLevel: 'warning', external };

await build({
  ...common,
  entryPoints: { main: 'main/app/main.ts' },
  outdir: 'dist/app',
  outExtension: { '.js': '.mjs' },
  format: 'esm',
  // Bundled CommonJS dependencies call require(); give the ESM bundle a real one.
  banner: {
    js: "import { createRequire as __cvmCreateRequire } from 'node:module'; const require = __cvmCreateRequire(import.meta.url);",
  },
});

await build({
  ...common,
  entryPoints: {
    'inference-worker': 'main/inference/worker.ts',
    'whole-image-worker': 'main/inference/whole-image-worker.ts',
    'decode-worker': 'main/dicom/decode-worker.ts',
    'store-writer-worker': 'main/store/writer-worker.ts',
  },
  outdir: 'dist/app',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // Modules that locate their files try import.meta.url first and fall back to __filename in CommonJS.
  logOverride: { 'empty-import-meta': 'silent' },
});

await build({
  ...common,
  entryPoints: ['preload/electron.ts'],
  outfile: 'dist/app/preload.cjs',
  format: 'cjs',
  external: ['electron'],
});
