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

/**
 * A reader that goes away early (`cvm analyze --json | head -1`) made Node throw an unhandled EPIPE with a stack
 * trace. With this the rest of the output is dropped and the command stops as after Ctrl+C (a batch finishes the
 * image in progress, which keeps the engine from being torn down inside ONNX Runtime); a command without a cancel
 * just ends.
 */
export function stopWhenStdoutCloses(): void {
  let stdoutGone = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (stdoutGone) return; // later writes to the closed stream fail too
    if (error.code !== 'EPIPE') throw error;
    stdoutGone = true;
    process.emit('SIGINT');
  });
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
