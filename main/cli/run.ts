/** Runs one `cvm` command and turns its outcome into the process's exit code (both entries share it). */
import { type Command, UsageError } from './command';

export async function runCommand(name: string, command: Command, args: string[]): Promise<number> {
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`cvm ${name}: ${error.message}\nusage: ${command.usage}`);
      return 2;
    }
    console.error(`cvm ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** Sets the exit code when the command ends; an error that escapes it is printed whole. */
export function exitWith(result: Promise<number>): void {
  result.then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
