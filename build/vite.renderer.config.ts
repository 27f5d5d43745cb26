import { defineConfig } from 'vite';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export default defineConfig({
  root: path.join(root, 'renderer'),
  base: './',
  publicDir: false,
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: path.join(root, 'dist', 'renderer'),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    // The report's fonts are inlined into its (lazily loaded) chunk: the Electron window loads the renderer
    // from file://, where fetch() cannot read files, and the CSP allows no other source.
    assetsInlineLimit: (file: string) => (file.endsWith('.ttf') ? true : undefined),
  },
});
