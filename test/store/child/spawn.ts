/** Runs writer.ts in a real child process and reads its lines as they come. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../shared-data';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'writer.ts');

export interface Writer {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line matching `test` (rejects when the child exits first). */
  waitFor(test: (line: string) => boolean): Promise<string>;
  kill(): Promise<void>;
}

export function startWriter(dataDir: string, mode: 'hold' | 'edits', count = 0): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, mode, String(count)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ test: (l: string) => boolean; resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of waiters.filter((w) => w.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('exit', (code, signal) => {
    for (const w of waiters.splice(0))
      w.reject(new Error(`writer exited (${code ?? signal}) before the expected line:\n${stderr}`));
  });
  return {
    child,
    lines,
    waitFor(test) {
      const found = lines.find(test);
      if (found !== undefined) return Promise.resolve(found);
      if (child.exitCode !== null || child.signalCode !== null)
        return Promise.reject(new Error(`writer already exited:\n${stderr}`));
      return new Promise((resolve, reject) => waiters.push({ test, resolve, reject }));
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
