/**
 * Closing an engine while its worker is inside an ONNX Runtime call must not take the process down: the
 * call finishing into a terminated worker throws a Napi::Error nothing can catch, and the process aborts
 * (exit 134). `cvm analyze` of a hand did that now and then: the landmark run, started beside the kind check,
 * was still going when the refused command closed the engine. A real process, the shipped models.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const run = promisify(execFile);
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CHILD = path.join(REPO_ROOT, 'test', 'inference', 'fixtures', 'close-during-run.ts');
// 0 ms closes before the worker has the job; most others land inside the locate or refine runs (this machine:
// 20-120 ms aborted the process before the fix).
const DELAYS = [0, 20, 40, 60, 90, 120, 160, 220];

describe.skipIf(!HAS_SHARED_DATA)('closing an engine during a run', () => {
  it('lets the run finish, then ends the worker: the process lives and every close returns', async () => {
    const image = sharedPath('isbi2015', 'images', '001.jpg');
    const { stdout } = await run(TSX, [CHILD, image, DELAYS.join(',')], { cwd: REPO_ROOT, timeout: 120_000 });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(DELAYS.length);
    for (const [i, delay] of DELAYS.entries()) {
      expect(lines[i]).toMatch(
        new RegExp(
          `^landmark engine closed ${delay} ms after the request: (answered|the inference engine was closed)$`,
        ),
      );
    }
  }, 120_000);
});
