import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../shared-data';

function cruise(target: string): { status: number; output: string } {
  try {
    const output = execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'depcruise'),
      ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', target], { cwd: REPO_ROOT, encoding: 'utf8', stdio: 'pipe' });
    return { status: 0, output };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status, output: e.stdout + e.stderr };
  }
}

describe('layer rules', () => {
  const wrong = cruise('test/layers/fixtures');

  it.each([
    ['core importing node:fs', 'core-no-node-builtins', 'core/reads-files.ts'],
    ['renderer importing main', 'renderer-not-main', 'renderer/reaches-main.ts'],
    ['renderer importing electron', 'renderer-no-node-or-electron', 'renderer/uses-electron.ts'],
    ['a service importing electron', 'electron-only-in-shell', 'main/services/thing.ts'],
  ])('%s is reported as %s', (_what, rule, file) => {
    expect(wrong.status).not.toBe(0);
    expect(wrong.output).toMatch(new RegExp(`${rule}: test/layers/fixtures/${file.replace('.', '\\.')}`));
  });
});
