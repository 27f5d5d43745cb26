// dist/cli/cvm.mjs, the command line's entry (copied there by build/bundle-cli.mjs). `cvm info`, whose whole cost
// is its start-up, runs from a CommonJS bundle of its own (dist/cli/info.cjs: one file through Node's CommonJS
// loader); every other command, and info when that bundle is missing, from the ESM bundle (dist/cli/cli.mjs,
// one chunk per command, loaded on demand).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let ran = false;
if (process.argv[2] === 'info') {
  try {
    require.resolve('./info.cjs');
    ran = true;
  } catch {
    /* not built: the ESM bundle has the same command */
  }
  if (ran) require('./info.cjs');
}
if (!ran) await import('./cli.mjs');
