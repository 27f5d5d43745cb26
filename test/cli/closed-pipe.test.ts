/**
 * A reader that closes stdout early (`cvm analyze --json | head -1`): the command stops quietly, as after Ctrl+C,
 * instead of dying on an unhandled EPIPE with a stack trace (main/cli/index.ts, main/cli/stdout.ts). Runs the built
 * command line (dist/cli, made by `npm run build`) on real ISBI cephalograms.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, sharedPath, SKIP_NO_SHARED } from '../shared-data';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'cvm.mjs');

/** Runs `cvm <args>`, closes its stdout after the first chunk read, and waits for it to end. */
function closeAfterFirstOutput(args: string[]): Promise<{ code: number | null; first: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let first = '';
    let stderr = '';
    child.stdout.once('data', (chunk: Buffer) => {
      first = chunk.toString('utf8');
      child.stdout.destroy();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, first, stderr }));
  });
}

describe.skipIf(SKIP_NO_SHARED)('cvm with its stdout closed early', () => {
  it('analyze --json stops after the image in progress, without an EPIPE stack trace', async () => {
    const images = ['001', '002', '003', '004'].map((n) => sharedPath('isbi2015', 'images', `${n}.jpg`));
    const run = await closeAfterFirstOutput(['analyze', ...images, '--spacing', '0.1', '--json']);
    expect(JSON.parse(run.first.split('\n')[0] ?? '')).toMatchObject({ type: 'start', files: 4 });
    expect(run.stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(run.stderr).toMatch(/cancelling: the image in progress finishes/);
    expect(run.code).toBe(130);
  }, 60_000);
});
