// Bundles the `cvm` command line (ESM, split per command so each command loads only its own code) and the
// two worker threads it starts, under dist/cli. Native and WebAssembly-carrying packages stay external and
// are loaded from node_modules only by the chunks that use them. Run by `npm run build`, and by
// build/cvm.mjs whenever the sources are newer than the bundle.
import { chmodSync, copyFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeInfoCodeCache } from './info-code-cache.mjs';
import {
  copyWasm,
  ESM_REQUIRE_BANNER,
  EXTERNAL,
  LAZY_ZLIB_FOR_DICOM_PARSER,
  ROOT,
  WORKER_ENTRIES,
  WORKER_OPTIONS,
} from './bundle-common.mjs';

export const CLI_DIR = path.join(ROOT, 'dist', 'cli');
const external = EXTERNAL;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  external,
  absWorkingDir: ROOT,
  plugins: [LAZY_ZLIB_FOR_DICOM_PARSER],
};

export async function bundleCli() {
  // Built beside and then swapped in, so a command starting meanwhile never sees half a bundle.
  const out = `${CLI_DIR}.${process.pid}.tmp`;
  rmSync(out, { recursive: true, force: true });
  const cli = await build({
    ...common,
    metafile: true,
    entryPoints: { cli: 'main/cli/index.ts' },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    banner: ESM_REQUIRE_BANNER,
  });
  await build({ ...common, ...WORKER_OPTIONS, entryPoints: WORKER_ENTRIES, outdir: out });
  // `cvm info` alone, as one CommonJS file (its dynamic imports inlined, still run on first use): the launcher
  // runs it without the ESM loader. Its metafile is kept beside the ESM one for test/cli/bundle.test.ts.
  const info = await build({
    ...common,
    ...WORKER_OPTIONS,
    metafile: true,
    entryPoints: { info: 'main/cli/info-main.ts' },
    outdir: out,
  });
  writeFileSync(path.join(out, 'info-meta.json'), JSON.stringify(info.metafile));
  // `cvm analyze` alone the same way (no code cache: measured, it saved nothing there; docs/performance.md, round 9).
  await build({ ...common, ...WORKER_OPTIONS, entryPoints: { analyze: 'main/cli/analyze-main.ts' }, outdir: out });
  // The entry: runs info.cjs (through cvm-info.cjs, with its code cache) for `cvm info`, analyze.cjs for
  // `cvm analyze`, cli.mjs for the rest.
  copyFileSync(path.join(ROOT, 'build', 'cli-launcher.mjs'), path.join(out, 'cvm.mjs'));
  copyFileSync(path.join(ROOT, 'build', 'cli-info-launcher.cjs'), path.join(out, 'cvm-info.cjs'));
  // `dist/cli/cvm`: the same entry started with glibc's malloc set for fresh memory (build/cli-launcher.sh).
  copyFileSync(path.join(ROOT, 'build', 'cli-launcher.sh'), path.join(out, 'cvm'));
  chmodSync(path.join(out, 'cvm'), 0o755);
  copyWasm(out);
  try {
    writeInfoCodeCache(out);
  } catch (error) {
    // An optimisation only: without the cache `cvm info` compiles its bundle as before (and test/cli/bundle.test.ts
    // fails where it should be made), so a build never stops for it.
    console.warn(`bundle-cli: no code cache for cvm info (${error instanceof Error ? error.message : error})`);
  }
  // Which chunk holds which source and imports what: test/cli/bundle.test.ts checks the lazy loading with it.
  writeFileSync(path.join(out, 'meta.json'), JSON.stringify(cli.metafile));
  // The time the bundle was made from the sources, read by build/cvm.mjs.
  writeFileSync(path.join(out, 'built-at'), `${Date.now()}\n`);
  const old = `${CLI_DIR}.${process.pid}.old`;
  try {
    renameSync(CLI_DIR, old);
  } catch {
    /* no earlier bundle */
  }
  renameSync(out, CLI_DIR);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleCli();
