/**
 * A command that ends while its prestarted inference worker is still starting (a wrong argument, an unreadable
 * file: `cvm eval --help` aborted one run in five) must end with its own exit code: ended inside onnxruntime-node's
 * native start-up, the worker threw a Napi::Error nothing can catch and the process aborted (exit 134). Real
 * processes, each ending at another moment of the worker's start-up (here 5-10 ms into it aborted without the
 * gate; the start-up itself lasts about 50 ms).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  endAfterNativeStart,
  enterNativeStart,
  gateOf,
  gateState,
  leaveNativeStart,
  newStartupGate,
} from '../../main/inference/startup-gate';
import { REPO_ROOT } from '../shared-data';

const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CHILD = path.join(REPO_ROOT, 'test', 'inference', 'fixtures', 'end-during-start.ts');
const DELAYS_MS = [0, 2, 5, 8, 10, 15, 20, 30, 40, 60, 90];

interface Ended {
  readonly delay: number;
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

function endAfter(delay: number): Promise<Ended> {
  return new Promise((resolve) => {
    execFile(TSX, [CHILD, String(delay)], { cwd: REPO_ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      const failed = error as (Error & { code?: number | string; signal?: string }) | null;
      resolve({
        delay,
        code: failed ? (typeof failed.code === 'number' ? failed.code : null) : 0,
        signal: failed?.signal ?? null,
        stdout,
        stderr,
      });
    });
  });
}

describe('a process that ends while the prestarted inference worker starts', () => {
  it('ends with its own exit code at every moment of the start-up, never aborted', async () => {
    const ended: Ended[] = [];
    // Two at a time: the two cores of the CI machine.
    for (let i = 0; i < DELAYS_MS.length; i += 2)
      ended.push(...(await Promise.all(DELAYS_MS.slice(i, i + 2).map(endAfter))));
    for (const run of ended) {
      expect(run.stderr, `ended ${run.delay} ms in`).not.toMatch(/terminate called|Napi::Error/);
      expect({ delay: run.delay, code: run.code, signal: run.signal }).toEqual({
        delay: run.delay,
        code: 3,
        signal: null,
      });
      expect(run.stdout).toMatch(
        new RegExp(`^ending ${run.delay} ms into the native start-up, the worker (in-native-start|started)\\n$`),
      );
    }
    // The sweep reached inside the native start-up, where the abort happened.
    expect(ended.some((run) => run.stdout.includes('in-native-start'))).toBe(true);
  }, 180_000);
});

describe('the start-up gate', () => {
  it('stops a worker that has not begun its start-up once the process is ending', () => {
    const gate = newStartupGate();
    expect(endAfterNativeStart(gate, 5_000)).toBeLessThan(1_000); // nothing to wait for
    expect(gateState(gate)).toBe('ending');
    expect(() => enterNativeStart(gate)).toThrow('the process is ending');
  });

  it('lets an ending process wait while the worker is inside, up to the limit', () => {
    const gate = newStartupGate();
    enterNativeStart(gate);
    expect(gateState(gate)).toBe('in-native-start');
    expect(endAfterNativeStart(gate, 60)).toBeGreaterThanOrEqual(55); // nobody leaves: the limit
    leaveNativeStart(gate);
    expect(gateState(gate)).toBe('started');
    expect(endAfterNativeStart(gate, 5_000)).toBeLessThan(1_000);
    expect(gateState(gate)).toBe('started');
  });

  it('is found only in the data a prestarted worker is given', () => {
    const gate = newStartupGate();
    expect(gateOf({ startupGate: gate })).toBe(gate);
    expect(gateOf(undefined)).toBeNull();
    expect(gateOf({ startupGate: new Int32Array(1) })).toBeNull(); // not shared
  });
});
