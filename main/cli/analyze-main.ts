/**
 * `cvm analyze` on its own: the entry of dist/cli/analyze.cjs, a CommonJS bundle of this command alone, which the
 * launchers (dist/cli/cvm, dist/cli/cvm.mjs) run for `cvm analyze`. The inference worker starts first; the
 * command's modules, in the same file, run after (esbuild inlines the dynamic import as a module initialised on
 * first use). One file through Node's CommonJS loader starts the command about 20 ms sooner than the ESM bundle's
 * chunks through the ESM loader (docs/performance.md, round 9). The command is the one the ESM bundle runs
 * (main/cli/commands/analyze.ts); only the loading differs.
 */
import { prestartLandmarkAnalysis } from '../services/prestart';
import { exitWith, runCommand, stopWhenStdoutCloses } from './run';

prestartLandmarkAnalysis();
stopWhenStdoutCloses();
// process.argv: node, the bundle (or dist/cli/cvm.mjs), "analyze", the command's arguments.
exitWith(
  import('./commands/analyze').then(({ analyzeCommand }) =>
    runCommand('analyze', analyzeCommand, process.argv.slice(3)),
  ),
);
