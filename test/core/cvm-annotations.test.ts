import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { imagePoint } from '../../core/geometry/index';
import { isLandmarkName, type LandmarkSet } from '../../core/landmarks/index';
import { assess, stageLabel, THRESHOLD_PRESETS, type Assessment } from '../../core/cvm/index';
import { HAS_SHARED_DATA, SKIP_NO_SHARED, sharedPath } from '../shared-data';

interface Cvm13 {
  pixel_spacing_mm: [number, number];
  images: Record<string, { points: Record<string, [number, number]> }>;
}

function load(): { spacing: { rowMm: number; colMm: number }; sets: [string, LandmarkSet][] } {
  const data = JSON.parse(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8')) as Cvm13;
  const sets = Object.entries(data.images).map(([id, img]): [string, LandmarkSet] => {
    const set: LandmarkSet = {};
    for (const [name, [x, y]] of Object.entries(img.points)) if (isLandmarkName(name)) set[name] = imagePoint(x, y);
    return [id, set];
  });
  return { spacing: { rowMm: data.pixel_spacing_mm[0], colMm: data.pixel_spacing_mm[1] }, sets };
}

function distribution(results: Assessment[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of results) {
    const key = a.ok ? (a.result.kind === 'stage' ? a.result.stage : 'no-fit') : `error (${a.error.code})`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

describe.skipIf(!HAS_SHARED_DATA)(`the 54 annotated cephalograms of cvm13 ${SKIP_NO_SHARED}`, () => {
  it.each(['default', 'cvmt'] as const)(
    'each gives a stage, a no-fit or a named error with the %s preset',
    (preset) => {
      const { spacing, sets } = load();
      expect(sets).toHaveLength(54);
      const results = sets.map(([, set]) => assess(set, spacing, THRESHOLD_PRESETS[preset]));
      for (const a of results) {
        if (a.ok) {
          expect(stageLabel(a.result)).toMatch(
            /^(CS[1-6]|CS[1-6]\/CS[1-6] borderline|no stage fits \(nearest CS[1-6](, CS[1-6])*\))$/,
          );
          expect(a.result.comparisons.length).toBeGreaterThan(0);
          expect(a.measurements.unit).toBe('mm');
          expect(a.measurements.facing).toBe('right');
        } else {
          expect(a.error.landmarks.length).toBeGreaterThan(0);
          expect(a.error.message).toContain(a.error.landmarks[0]);
        }
      }
      const staged = results.filter((a) => a.ok).length;
      console.log(
        `cvm13, ${preset} preset: ${JSON.stringify(distribution(results))}; ${results.filter((a) => a.ok && a.result.kind === 'stage' && a.result.borderline).length} borderline`,
      );
      expect(staged).toBeGreaterThan(0);
    },
  );

  it('mirroring every image (patient facing left) changes no stage label', () => {
    const { spacing, sets } = load();
    for (const [id, set] of sets) {
      const mirrored: LandmarkSet = {};
      for (const [name, p] of Object.entries(set))
        if (isLandmarkName(name)) mirrored[name] = imagePoint(1935 - p.x, p.y);
      const a = assess(set, spacing);
      const b = assess(mirrored, spacing);
      const label = (x: Assessment) => (x.ok ? stageLabel(x.result) : x.error.code);
      expect(label(b), id).toBe(label(a));
    }
  });
});
