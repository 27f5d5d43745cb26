/** `cvm <command>`: the workstation's services from a terminal (`npm run cvm -- <command>`). */
import { COMMANDS, loadCommand } from './commands';
import { UsageError } from './command';

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
  const command = await loadCommand(entry);
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`cvm ${name}: ${error.message}\nusage: ${command.usage}`);
      return 2;
    }
    console.error(`cvm ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
