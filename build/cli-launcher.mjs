// dist/cli/cvm.mjs, the command line's entry (copied there by build/bundle-cli.mjs). `cvm info`, whose whole cost
// is its start-up, runs from a CommonJS bundle of its own (dist/cli/info.cjs: one file, compiled with its V8 code
// cache by dist/cli/cvm-info.cjs), and so does `cvm analyze`, whose single cold run is start-up for the most part
// (dist/cli/analyze.cjs); every other command, and those two when their bundle is missing, from the ESM bundle
// (dist/cli/cli.mjs, one chunk per command, loaded on demand). dist/cli/cvm starts cvm-info.cjs and analyze.cjs
// itself, without this ESM file.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const command = process.argv[2];
if (command === 'info' && existsSync(new URL('./info.cjs', import.meta.url))) require('./cvm-info.cjs');
else if (command === 'analyze' && existsSync(new URL('./analyze.cjs', import.meta.url))) require('./analyze.cjs');
else await import('./cli.mjs');
