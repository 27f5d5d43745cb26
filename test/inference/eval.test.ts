import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LANDMARK_NAMES, type LandmarkName } from '../../core/landmarks/index';
import { labelmeToLandmarks, summarizeErrors } from '../../main/cli/commands/eval';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';

/** Image 001's ground truth (rounded), a right-facing patient in a 1935 px wide image. */
const TRUTH: Record<LandmarkName, [number, number]> = {
  C2p: [430, 1788],
  C2m: [495, 1796],
  C2a: [565, 1845],
  C3up: [425, 1817],
  C3lp: [375, 1952],
  C3m: [449, 1969],
  C3la: [516, 2025],
  C3ua: [550, 1895],
  C4up: [366, 1971],
  C4lp: [327, 2120],
  C4m: [399, 2137],
  C4la: [478, 2191],
  C4ua: [504, 2075],
};

const polygon = (names: LandmarkName[], mirrorWidth?: number): { points: number[][] } => ({
  points: names.map((n) => {
    const [x, y] = TRUTH[n];
    return [mirrorWidth === undefined ? x : mirrorWidth - 1 - x, y];
  }),
});

describe('second-annotator LabelMe polygons mapped to the 13 landmarks', () => {
  it.each([
    [
      'in LabelMe order',
      undefined,
      [
        ['C2p', 'C2m', 'C2a'],
        ['C3up', 'C3lp', 'C3m', 'C3la', 'C3ua'],
        ['C4up', 'C4lp', 'C4m', 'C4la', 'C4ua'],
      ],
    ],
    [
      'shuffled, C4 first',
      undefined,
      [
        ['C4la', 'C4up', 'C4ua', 'C4m', 'C4lp'],
        ['C2a', 'C2p', 'C2m'],
        ['C3m', 'C3ua', 'C3la', 'C3lp', 'C3up'],
      ],
    ],
    [
      'mirrored (patient facing left)',
      1935,
      [
        ['C2m', 'C2a', 'C2p'],
        ['C3ua', 'C3up', 'C3la', 'C3m', 'C3lp'],
        ['C4lp', 'C4m', 'C4la', 'C4ua', 'C4up'],
      ],
    ],
  ] as [string, number | undefined, LandmarkName[][]][])(
    'names every point by geometry, %s',
    (_what, mirror, polys) => {
      const set = labelmeToLandmarks(
        polys.map((p) => polygon(p, mirror)),
        1935,
      );
      for (const name of LANDMARK_NAMES) {
        const [x, y] = TRUTH[name];
        expect(set[name], name).toEqual({ x: mirror === undefined ? x : mirror - 1 - x, y });
      }
    },
  );

  it('ignores a repeated vertex in the C2 polygon', () => {
    const c2 = polygon(['C2p', 'C2m', 'C2a']);
    c2.points.push([TRUTH.C2m[0] + 1, TRUTH.C2m[1] + 1]);
    const set = labelmeToLandmarks(
      [c2, polygon(['C3up', 'C3lp', 'C3m', 'C3la', 'C3ua']), polygon(['C4up', 'C4lp', 'C4m', 'C4la', 'C4ua'])],
      1935,
    );
    expect(set.C2m).toEqual({ x: 495, y: 1796 });
  });

  it('refuses polygons that are not one C2 border and two bodies', () => {
    expect(() => labelmeToLandmarks([polygon(['C2p', 'C2m', 'C2a'])], 1935)).toThrow(/got 3 points/);
  });

  it.skipIf(!HAS_SHARED_DATA)(
    'puts the real second annotator of image 001 at about 0.57 mm from the ground truth',
    () => {
      const lm = JSON.parse(readFileSync(sharedPath('cvm13', '001_second_annotator_labelme.json'), 'utf8'));
      const truth = JSON.parse(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8')).images['001'];
      const set = labelmeToLandmarks(lm.shapes, lm.imageWidth);
      const errorsMm = Object.fromEntries(
        LANDMARK_NAMES.filter((n) => !truth.filled_from_prediction.includes(n)).map((n) => {
          const [x, y] = truth.points[n];
          return [n, Math.hypot(set[n]!.x - x, set[n]!.y - y) * 0.1];
        }),
      );
      const s = summarizeErrors([{ errorsMm }]);
      // data/README.md: 5.7 px (0.57 mm) per landmark; every point within 2 mm when the names are right.
      expect(s.mre_mm).toBeGreaterThan(0.4);
      expect(s.mre_mm).toBeLessThan(0.75);
      expect(s.sdr['2mm']).toBe(1);
    },
  );
});

describe('error summary', () => {
  it('computes mean, median, SDR and per-landmark means over every scored landmark', () => {
    const s = summarizeErrors([{ errorsMm: { C2p: 0.5, C2m: 1.5 } }, { errorsMm: { C2p: 2.5, C3m: 5 } }]);
    expect(s).toMatchObject({ images: 2, landmarks: 4, mre_mm: 2.375, median_mm: 2 });
    expect(s.sdr).toEqual({ '1mm': 0.25, '2mm': 0.5, '2.5mm': 0.75, '4mm': 0.75 });
    expect(s.per_landmark_mm.C2p).toBe(1.5);
    expect(s.per_landmark_mm.C4m).toBeNaN();
  });
});
