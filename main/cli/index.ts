/** `cvm <command>`: the workstation's services from a terminal (`npm run cvm -- <command>`). */
import { COMMANDS, loadCommand } from './commands';
import { exitWith, runCommand, stopWhenStdoutCloses } from './run';

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

stopWhenStdoutCloses();
exitWith(main(process.argv.slice(2)));
