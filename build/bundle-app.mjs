// Bundles the Electron main process and its sandboxed preload into CommonJS files under dist/app.
// Native and WebAssembly-carrying packages stay external: electron-builder ships them from node_modules.
import { build } from 'esbuild';

const external = ['electron', 'better-sqlite3', 'onnxruntime-node', '@cornerstonejs/*', 'dcmjs-imaging', 'ws'];

await build({
  entryPoints: { main: 'main/app/main.ts' },
  outdir: 'dist/app',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external,
  sourcemap: true,
  logLevel: 'warning',
});

await build({
  entryPoints: ['preload/electron.ts'],
  outfile: 'dist/app/preload.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['electron'],
  sourcemap: true,
  logLevel: 'warning',
});
