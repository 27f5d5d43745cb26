/**
 * `cvm info` on its own: the entry of dist/cli/info.cjs, a CommonJS bundle of this command alone, which the
 * launcher (dist/cli/cvm.mjs, build/cli-launcher.mjs) runs for `cvm info`. A command whose whole cost is its
 * start-up then loads one file through Node's CommonJS loader instead of several chunks through the ESM loader.
 * The command is the one the ESM bundle runs (main/cli/commands/info.ts); only the loading differs.
 */
import { infoCommand } from './commands/info';
import { exitWith, runCommand } from './run';

// process.argv: node, the launcher, "info", the command's arguments.
exitWith(runCommand('info', infoCommand, process.argv.slice(3)));
