// dist/cli/cvm.mjs, the command line's entry (copied there by build/bundle-cli.mjs). `cvm info`, whose whole cost
// is its start-up, runs from a CommonJS bundle of its own (dist/cli/info.cjs: one file, compiled with its V8 code
// cache by dist/cli/cvm-info.cjs); every other command, and info when that bundle is missing, from the ESM bundle
// (dist/cli/cli.mjs, one chunk per command, loaded on demand). dist/cli/cvm starts cvm-info.cjs itself for `info`,
// without this ESM file.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
if (process.argv[2] === 'info' && existsSync(new URL('./info.cjs', import.meta.url))) require('./cvm-info.cjs');
else await import('./cli.mjs');
