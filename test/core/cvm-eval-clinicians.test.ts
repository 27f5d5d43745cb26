import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { syntheticLandmarks, type SyntheticSpec } from './synthetic-landmarks';
import { evalCommand } from '../../main/cli/commands/eval';
import { stageManifestPath } from '../../main/cli/stage-model-files';
import { HAS_SHARED_DATA, SKIP_NO_SHARED, sharedPath } from '../shared-data';

const dir = mkdtempSync(path.join(tmpdir(), 'cvm-eval-clinicians-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    lines.push(parts.join(' '));
  });
  const code = await evalCommand.run(args);
  return { code, out: lines.join('\n') };
}

const body = (ratio: number, heightRatio: number) => ({ ratio, heightRatio, height: 11 });
const SPINES: Record<string, [string, SyntheticSpec]> = {
  a: ['CS1', { concavity: [0.02, 0.02, 0.02], C3: body(1.5, 0.7), C4: body(1.5, 0.7) }],
  b: ['CS4', { concavity: [0.12, 0.12, 0.12], C3: body(1.3, 0.95), C4: body(1.3, 0.95) }],
  c: ['CS3', { concavity: [0.12, 0.12, 0.12], C3: body(0.8, 0.97), C4: body(0.8, 0.97) }], // a CS6 spine the "clinician" called CS3
};

describe("cvm eval on clinicians' stages", () => {
  it('measures the shipped model on a file it was not fitted to: exact, within one, QWK, top-2, ECE', async () => {
    const file = path.join(dir, 'held-out.json');
    const images: Record<string, unknown> = {};
    const stages: Record<string, string> = {};
    for (const [id, [stage, spec]] of Object.entries(SPINES)) {
      const set = syntheticLandmarks({ ...spec, mmPerPx: 0.1 });
      images[id] = {
        image: `${id}.png`,
        points: Object.fromEntries(Object.entries(set).map(([n, p]) => [n, [p.x, p.y]])),
      };
      stages[id] = stage;
    }
    const { C3m: _, ...broken } = (images.b as { points: Record<string, unknown> }).points;
    images.d = { image: 'd.png', points: broken };
    stages.d = 'CS2';
    writeFileSync(file, JSON.stringify({ schema: 'cvm13 v1', images, clinician_stage: stages }));
    const { code, out } = await run('--annotations', file, '--json');
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r).toMatchObject({ mode: 'shipped-model', spines: 4, staged: 3, model: { id: 'cvm-stage-v1' } });
    expect(r.unmeasurable).toEqual([{ id: 'd', stage: 'CS2', error: expect.stringContaining('C3m') }]);
    expect(r.agreement.exact).toBeCloseTo(2 / 3, 9);
    expect(r.agreement.withinOne).toBeCloseTo(2 / 3, 9);
    expect(r.agreement.top2).toBeCloseTo(2 / 3, 9);
    expect(r.agreement.quadraticKappa).toBeLessThan(1);
    expect(r.agreement.ece).toBeGreaterThan(0);
    expect(r.agreementAllSpines.exact).toBeCloseTo(0.5, 9);
    const text = (await run('--annotations', file)).out;
    expect(text).toMatch(
      /exact 66\.7%, within one stage 66\.7%, quadratic-weighted kappa -?\d\.\d{3}, top-2 66\.7%, ECE \(10 bins\) \d\.\d{3}/,
    );
  });

  it.skipIf(!HAS_SHARED_DATA)(
    `on its own training file it cross-validates, reproducing the manifest ${SKIP_NO_SHARED}`,
    { timeout: 600_000 },
    async () => {
      const { code, out } = await run(
        '--annotations',
        sharedPath('cvm900', 'cvm900_train.json'),
        '--json',
        '--repeats',
        '1',
      );
      expect(code).toBe(0);
      const r = JSON.parse(out);
      expect(r.mode).toBe('cross-validated');
      const manifest = JSON.parse(readFileSync(stageManifestPath(), 'utf8'));
      expect(r.crossValidated.perRepeat[0]).toEqual(manifest.crossValidated.perRepeat[0]);
      expect(r.textbookRules.exact).toBeCloseTo(manifest.textbookRulesOnTheSameSpines.exact_allSpines, 4);
    },
  );
});
