import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../shared-data';

interface Part {
  readonly may: readonly string[];
  readonly npm: readonly string[];
  readonly node: boolean;
}
const { parts } = createRequire(import.meta.url)(path.join(REPO_ROOT, 'build', 'architecture.cjs')) as {
  parts: Record<string, Part>;
};

function cruise(target: string): { status: number; output: string } {
  try {
    const output = execFileSync(
      path.join(REPO_ROOT, 'node_modules', '.bin', 'depcruise'),
      ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', target],
      { cwd: REPO_ROOT, encoding: 'utf8', stdio: 'pipe' },
    );
    return { status: 0, output };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status, output: e.stdout + e.stderr };
  }
}

describe('named layer rules', () => {
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

/**
 * One generated probe per forbidden arrow of build/architecture.cjs: for every pair of parts without an
 * arrow, a file in the first imports a file in the second; likewise a Node built-in for parts without
 * `node`. Every probe must be reported, so an arrow can only be opened by changing the architecture file.
 */
describe('the allow-list generated from build/architecture.cjs', () => {
  const root = path.join(REPO_ROOT, 'test', 'layers', '.probes');
  const names = Object.keys(parts);
  const forbidden: Array<[string, string]> = [];
  rmSync(root, { recursive: true, force: true });
  for (const name of names) {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'target.ts'), 'export const target = 1;\n');
  }
  for (const from of names) {
    const part = parts[from] as Part;
    for (const to of names) {
      if (to === from) continue;
      const allowed = part.may.includes(to);
      if (!allowed) forbidden.push([from, to]);
      const file = path.join(root, from, `${allowed ? 'allowed' : 'probe'}-${to.replaceAll('/', '-')}.ts`);
      const target = path
        .relative(path.dirname(file), path.join(root, to, 'target'))
        .split(path.sep)
        .join('/');
      writeFileSync(
        file,
        `import { target } from '${target.startsWith('.') ? target : `./${target}`}';\nexport const probe = target;\n`,
      );
    }
    if (!part.node) {
      forbidden.push([from, 'node:fs']);
      writeFileSync(
        path.join(root, from, 'probe-node.ts'),
        "import { readFileSync } from 'node:fs';\nexport const probe = readFileSync;\n",
      );
    }
  }
  const result = cruise('test/layers/.probes');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('has probes for the forbidden arrows', () => {
    expect(forbidden.length).toBeGreaterThan(100);
  });

  it.each(forbidden)('%s importing %s fails', (from, to) => {
    const probe = to === 'node:fs' ? 'probe-node' : `probe-${to.replaceAll('/', '-')}`;
    expect(result.output).toContain(`not-in-allowed: test/layers/.probes/${from}/${probe}.ts`);
  });

  it('the allowed arrows pass', () => {
    expect(result.output.split('\n').filter((line) => /: test\/layers\/\.probes\/[^ ]+\/allowed-/.test(line))).toEqual(
      [],
    );
  });
});
