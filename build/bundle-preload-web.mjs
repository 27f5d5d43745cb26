// Browser mode's stand-in for the Electron preload: a classic script the web server injects before the renderer.
import { build } from 'esbuild';

await build({
  entryPoints: ['preload/web.ts'],
  outfile: 'dist/renderer/preload-web.js',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
});
