/** `cvm <command>`: the workstation's services from a terminal (`npm run cvm -- <command>`). */
import { COMMANDS, loadCommand } from './commands';
import { exitWith, runCommand } from './run';

function printHelp(): void {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  console.log('usage: cvm <command> [options]\n\ncommands:');
  for (const c of COMMANDS) console.log(`  ${c.name.padEnd(width)}  ${c.summary}`);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    console.error(`cvm: unknown command "${name}"`);
    printHelp();
    return 2;
  }
  return runCommand(name, await loadCommand(entry), rest);
}

// A reader that goes away early (`cvm analyze --json | head -1`) made Node throw an unhandled EPIPE with a stack
// trace. Now the rest of the output is dropped and the command stops as after Ctrl+C (a batch finishes the image in
// progress, which keeps the engine from being torn down inside ONNX Runtime); a command without a cancel just ends.
let stdoutGone = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (stdoutGone) return; // later writes to the closed stream fail too
  if (error.code !== 'EPIPE') throw error;
  stdoutGone = true;
  process.emit('SIGINT');
});

exitWith(main(process.argv.slice(2)));
