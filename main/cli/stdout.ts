/**
 * A command's report written straight to file descriptor 1. `console.log` and `process.stdout` build Node's
 * stdout stream on first use (the stream modules and a writable wrapper: 3-7 ms of a new process here), which is a
 * tenth of `cvm info`'s whole run; a synchronous write of the finished text needs none of it. Writes until every
 * byte is out, and waits briefly where the descriptor is non-blocking and full (EAGAIN: a pipe another program
 * reads slowly). A reader that has gone (EPIPE: `cvm info f --json | head -1`) ends the writing quietly.
 */
import { writeSync } from 'node:fs';

const STDOUT = 1;
const FULL_PIPE_WAIT_MS = 2;

export function writeStdoutSync(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(STDOUT, bytes, written, bytes.length - written);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, FULL_PIPE_WAIT_MS);
    }
  }
}
