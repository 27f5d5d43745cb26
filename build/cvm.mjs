#!/usr/bin/env node
// `npm run cvm -- <command>`: runs the command line from its esbuild bundle (dist/cli/cvm.mjs), which starts
// several times faster than compiling TypeScript on the fly. The bundle is made by `npm run build`, and here
// whenever it is missing or older than any source file (main/, core/ including main/dicom/wasm, package-lock.json),
// so the command always runs the code in the checkout. Checking costs a few milliseconds (one stat per source file).
// On Linux the command runs in a process of its own started by dist/cli/cvm (build/cli-launcher.sh), which gives
// glibc's malloc huge pages (a setting read only at a process's start): one more Node start (about 70 ms, beside
// npm's own 300 ms), against 35 ms less per decoded cephalogram and 150 ms less for a cold analysis here.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI_DIR = path.join(ROOT, 'dist', 'cli');

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json') || entry.name.endsWith('.wasm'))
        newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  for (const dir of ['main', 'core']) walk(path.join(ROOT, dir));
  for (const file of [
    'package-lock.json',
    'build/bundle-cli.mjs',
    'build/bundle-common.mjs',
    'build/cli-launcher.mjs',
    'build/cli-launcher.sh',
    'build/cli-info-launcher.cjs',
    'build/info-code-cache.mjs',
  ])
    newest = Math.max(newest, statSync(path.join(ROOT, file)).mtimeMs);
  return newest;
}

function builtAt() {
  try {
    return Number(readFileSync(path.join(CLI_DIR, 'built-at'), 'utf8'));
  } catch {
    return 0;
  }
}

if (process.env.CVM_SKIP_BUNDLE_CHECK !== '1' && builtAt() < newestSource()) {
  const started = Date.now();
  process.stderr.write('cvm: bundling the command line (the sources changed) ...');
  const { bundleCli } = await import('./bundle-cli.mjs');
  await bundleCli();
  process.stderr.write(` ${Date.now() - started} ms\n`);
}
if (process.platform === 'linux' && !/(^|:)glibc\.malloc\.hugetlb=/.test(process.env.GLIBC_TUNABLES ?? '')) {
  // The launcher starts `node` from PATH: this one, whose native modules (better-sqlite3) npm built.
  const PATH = [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter);
  const child = spawn(path.join(CLI_DIR, 'cvm'), process.argv.slice(2), {
    stdio: 'inherit',
    env: { ...process.env, PATH },
  });
  // Ctrl+C reaches both processes (one process group): the command handles it (a batch stops after the file in
  // progress) and this one waits for it; a SIGTERM sent to this process alone is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (error) => {
    process.stderr.write(`cvm: cannot start ${path.join(CLI_DIR, 'cvm')}: ${error.message}\n`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
  });
} else {
  await import(pathToFileURL(path.join(CLI_DIR, 'cvm.mjs')).href);
}
