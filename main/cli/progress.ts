/**
 * Progress on stderr for commands that can take more than a second: a bar redrawn in place on a terminal,
 * plain lines otherwise (a log, a pipe, CI), at most one every few seconds so logs stay short. stdout is
 * left to the results (and to --json output).
 */
const WIDTH = 30;
const PLAIN_EVERY_MS = 2_000;

export interface Progress {
  /** `done` of `total` finished; `current` names what is in progress. */
  update(done: number, current?: string, etaMs?: number | null): void;
  /** Clears the bar (terminal) or prints the last line (otherwise). */
  finish(summary?: string): void;
}

export function isTerminal(): boolean {
  return process.stderr.isTTY === true;
}

/** One line saying what the command is doing now (e.g. "store: measuring at 10000 studies"). */
export function progressLine(text: string): void {
  if (isTerminal()) process.stderr.write(`\r${text.padEnd(100).slice(0, 110)}\r`);
  else process.stderr.write(`${text}\n`);
}

export function formatBar(label: string, done: number, total: number, current?: string, etaMs?: number | null): string {
  const filled = Math.round((done / Math.max(1, total)) * WIDTH);
  const eta = etaMs === null || etaMs === undefined ? '' : ` ${Math.ceil(etaMs / 1000)} s left`;
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total}${eta}${current ? ` ${current}` : ''}`;
}

export function createProgress(label: string, total: number, terminal = isTerminal()): Progress {
  let lastPlain = 0;
  let lastDone = -1;
  return {
    update(done, current, etaMs) {
      lastDone = done;
      if (terminal) {
        process.stderr.write(`\r${formatBar(label, done, total, current, etaMs).padEnd(110).slice(0, 110)}`);
        return;
      }
      const now = Date.now();
      if (now - lastPlain < PLAIN_EVERY_MS && done < total) return;
      lastPlain = now;
      process.stderr.write(`${label}: ${done}/${total}${current ? ` ${current}` : ''}\n`);
    },
    finish(summary) {
      if (terminal) process.stderr.write(`\r${''.padEnd(110)}\r`);
      if (summary) process.stderr.write(`${label}: ${summary}\n`);
      else if (!terminal && lastDone >= 0 && lastDone < total) process.stderr.write(`${label}: ${lastDone}/${total}\n`);
    },
  };
}
