/**
 * Command lines that a shell glob cannot hijack. `--` ends the options in every command (node:util
 * parseArgs), and an argument that reads as an option but is also the name of an existing file (a file
 * named `--data-dir=evil.dcm` picked up by `cvm import *.dcm`) is refused instead of being taken as an
 * option. Folders are walked without following links into loops, and only regular files are listed.
 */
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command';

type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

export function parseCommandLine<T extends ParseArgsConfig & { args: string[] }>(config: T): Parsed<T> {
  let parsed: ReturnType<typeof parseArgs<T & { tokens: true }>>;
  try {
    parsed = parseArgs({ ...config, tokens: true });
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message.split('. ')[0]}; if a file name starts with "-", put -- before the file names`,
    );
  }
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    const arg = config.args[token.index];
    if (arg !== undefined && lstatSync(arg, { throwIfNoEntry: false })) {
      throw new UsageError(
        `"${arg}" reads as an option but is also the name of a file here; put -- before file names (cvm <command> [options] -- <files>) or write ./${arg}`,
      );
    }
  }
  return parsed as unknown as Parsed<T>;
}

export interface WalkResult {
  readonly files: string[];
  /** Entries left out, each with why (a FIFO, a device, a link loop, unreadable). */
  readonly skipped: string[];
}

const MAX_DEPTH = 32;
const MAX_FILES = 200_000;

/**
 * Files as given, and the regular files found in folders (recursively, sorted, hidden names skipped, each
 * folder visited once even through links). `accept` filters files found in folders by name.
 */
export function walkInputs(inputs: readonly string[], accept: (name: string) => boolean = () => true): WalkResult {
  const files: string[] = [];
  const skipped: string[] = [];
  const visited = new Set<string>();
  const walk = (dir: string, depth: number): void => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch (error) {
      skipped.push(`${dir}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      return;
    }
    if (visited.has(real)) {
      skipped.push(`${dir}: already visited (a link back into a folder being read)`);
      return;
    }
    if (depth > MAX_DEPTH) {
      skipped.push(`${dir}: more than ${MAX_DEPTH} folders deep`);
      return;
    }
    visited.add(real);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (error) {
      skipped.push(`${dir}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      if (files.length >= MAX_FILES)
        throw new UsageError(`more than ${MAX_FILES} files under the folders given; import them in parts`);
      const full = path.join(dir, name);
      let st;
      try {
        st = statSync(full);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        skipped.push(
          `${full}: ${code === 'ELOOP' ? 'a loop of symbolic links' : code === 'ENOENT' ? 'a broken link' : `cannot be read (${code})`}`,
        );
        continue;
      }
      if (st.isDirectory()) walk(full, depth + 1);
      else if (!st.isFile())
        skipped.push(`${full}: ${st.isFIFO() ? 'a named pipe (FIFO)' : 'a device or socket'}, not a regular file`);
      else if (accept(name)) files.push(full);
    }
  };
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(
        `${input} ${code === 'ENOENT' ? 'does not exist' : code === 'ELOOP' ? 'is a loop of symbolic links' : `cannot be read (${code})`}`,
      );
    }
    if (st.isDirectory()) walk(input, 0);
    else files.push(input); // named explicitly: the reader refuses FIFOs and devices with its own message
  }
  return { files, skipped };
}
