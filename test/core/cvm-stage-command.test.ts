import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { syntheticLandmarks } from './synthetic-landmarks';
import { stageCommand } from '../../main/cli/commands/stage';
import { UsageError } from '../../main/cli/command';

let dir = '';
let file = '';

const points = (concavity: [number, number, number]) => {
  const set = syntheticLandmarks({
    concavity,
    C3: { ratio: 1.3, heightRatio: 0.95, height: 11 },
    C4: { ratio: 1.3, heightRatio: 0.95, height: 11 },
  });
  return Object.fromEntries(Object.entries(set).map(([n, p]) => [n, [p.x, p.y]]));
};

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cvm-stage-'));
  file = path.join(dir, 'annotations.json');
  const { C3m: _dropped, ...incomplete } = points([0.12, 0.12, 0.12]);
  writeFileSync(
    file,
    JSON.stringify({
      schema: 'cvm13 v1',
      pixel_spacing_mm: [0.1, 0.1],
      images: {
        a: { image: 'images/a.png', points: points([0.12, 0.12, 0.12]) },
        b: { image: '../b.png', points: points([0.12, 0.12, 0.02]) },
        c: { image: 'c.png', points: incomplete },
      },
    }),
  );
});

afterEach(() => vi.restoreAllMocks());

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    lines.push(parts.join(' '));
  });
  const code = await stageCommand.run(args);
  return { code, out: lines.join('\n') };
}

describe('cvm stage', () => {
  it('--json prints the model stage, probabilities, runner-up, the textbook result and measurements for every image, paths relative to the file', async () => {
    const { code, out } = await run('--annotations', file, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.preset).toBe('default');
    expect(json.stageModel).toEqual({ id: 'cvm-stage-v1', version: '1.0.0' });
    // b has flat C4 under concave C2 and C3 with horizontal bodies: CS3 by the table, CS4 for the clinicians' model.
    expect(json.distribution).toEqual({ CS4: 2, error: 1 });
    expect(json.textbookDistribution).toEqual({ CS4: 1, CS3: 1, error: 1 });
    const [a, b, c] = json.images;
    expect(a).toMatchObject({
      id: 'a',
      image: path.join(dir, 'images', 'a.png'),
      stage: 'CS4',
      label: 'CS4',
      textbookStage: 'CS4',
      textbookNote: null,
      result: { kind: 'stage', stage: 'CS4' },
      measurements: { unit: 'mm' },
    });
    expect(Object.values(a.probabilities as Record<string, number>).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
    expect(a.probability).toBe(a.probabilities.CS4);
    expect(a.runnerUp).toMatch(/^CS[1-6]$/);
    expect(b).toMatchObject({ stage: 'CS4', textbookStage: 'CS3', label: 'CS3' });
    expect(b.textbookNote).toBe(
      'Textbook criteria give CS3 (for CS4: the C4 lower border is still flat); clinicians staged spines like this CS4.',
    );
    expect(a.result.rule).toContain('CS4');
    expect(b.image).toBe(path.resolve(dir, '..', 'b.png'));
    expect(c).toMatchObject({ id: 'c', label: 'error', error: { code: 'missing-landmark', landmarks: ['C3m'] } });
  });

  it('without --json prints a readable table with the distribution', async () => {
    const { out } = await run('--annotations', file);
    expect(out).toContain('preset default; spacing 0.1 x 0.1 mm');
    expect(out).toMatch(/^a\s+CS4 \(\d+%\) CS[1-6] \d+%\s+CS4\s/m);
    expect(out).toMatch(/^c\s+error: landmark C3m missing/m);
    expect(out).toContain('3 images, stage by the model: CS4 2, error 1');
    expect(out).toContain('textbook criteria (default): CS3 1, CS4 1, error 1');
  });

  it('--preset cvmt stages with the cvmt rules', async () => {
    const json = JSON.parse((await run('--annotations', file, '--json', '--preset', 'cvmt')).out);
    expect(json.preset).toBe('cvmt');
    expect(json.images[0].result.preset).toBe('cvmt');
  });

  it('--spacing overrides the file and rescales every length', async () => {
    const json = JSON.parse((await run('--annotations', file, '--json', '--spacing', '0.2')).out);
    expect(json.spacing).toEqual({ rowMm: 0.2, colMm: 0.2 });
    expect(json.images[0].measurements.C2.concavity.chord).toBeCloseTo(30, 9);
  });

  it.each([
    [['--json'], '--annotations'],
    [['--annotations', 'x.json', '--preset', 'baccetti'], 'unknown preset "baccetti"'],
    [['--annotations', 'x.json', '--spacing=-1'], '--spacing must be a positive number'],
    [['--annotations', 'x.json', '--spacing', '-1'], 'argument is ambiguous'],
    [['--annotations', 'x.json', '--colour'], "Unknown option '--colour'"],
  ])('rejects the command line %j as a usage error', async (args, message) => {
    await expect(stageCommand.run(args)).rejects.toThrow(UsageError);
    await expect(stageCommand.run(args)).rejects.toThrow(message);
  });

  it.each([
    ['a missing file', (f: string) => f + '.absent', 'cannot read'],
    [
      'a file that is not JSON',
      (f: string) => {
        const g = f.replace('.json', '-bad.json');
        writeFileSync(g, '{');
        return g;
      },
      'is not valid JSON',
    ],
    [
      'a file without images',
      (f: string) => {
        const g = f.replace('.json', '-empty.json');
        writeFileSync(g, '{"schema":"x"}');
        return g;
      },
      'no "images" object',
    ],
    [
      'a file with an unknown landmark',
      (f: string) => {
        const g = f.replace('.json', '-odd.json');
        writeFileSync(g, JSON.stringify({ images: { z: { image: 'z.png', points: { C5x: [1, 2] } } } }));
        return g;
      },
      'unknown landmark "C5x"',
    ],
  ])('names the file and the problem for %s', async (_name, make, message) => {
    const bad = make(file);
    await expect(stageCommand.run(['--annotations', bad])).rejects.toThrow(bad);
    await expect(stageCommand.run(['--annotations', bad])).rejects.toThrow(message);
  });
});
