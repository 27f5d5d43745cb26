// Bundles the Electron main process (ESM), its worker threads (CommonJS) and its sandboxed preload
// (CommonJS, as sandboxed preloads must be) under dist/app. Native and WebAssembly-carrying packages stay
// external: electron-builder ships them from node_modules, unpacked from the asar.
import { build } from 'esbuild';
import {
  copyWasm,
  ESM_REQUIRE_BANNER,
  EXTERNAL,
  LAZY_ZLIB_FOR_DICOM_PARSER,
  WORKER_ENTRIES,
  WORKER_OPTIONS,
} from './bundle-common.mjs';

const external = EXTERNAL;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  logLevel: 'warning',
  external,
  plugins: [LAZY_ZLIB_FOR_DICOM_PARSER],
};

await build({
  ...common,
  entryPoints: { main: 'main/app/main.ts' },
  outdir: 'dist/app',
  outExtension: { '.js': '.mjs' },
  format: 'esm',
  banner: ESM_REQUIRE_BANNER,
});

await build({
  ...common,
  ...WORKER_OPTIONS,
  entryPoints: { ...WORKER_ENTRIES, 'store-writer-worker': 'main/store/writer-worker.ts' },
  outdir: 'dist/app',
});

await build({
  ...common,
  entryPoints: ['preload/electron.ts'],
  outfile: 'dist/app/preload.cjs',
  format: 'cjs',
  external: ['electron'],
});

copyWasm('dist/app');
