/** A `cvm` sub-command. `run` returns the process exit code; it prints its own output. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

/** Thrown for a wrong command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** One figure of `cvm bench`: a median over repeated runs. */
export interface BenchFigure {
  readonly area: string;
  readonly name: string;
  readonly medianMs: number;
  readonly runs: number;
  readonly note?: string;
}
