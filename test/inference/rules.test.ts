import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imagePoint } from '../../core/geometry/index';
import {
  assessQuality,
  DEFAULT_QUALITY_THRESHOLDS,
  estimateSpacing,
  parseManifest,
  SPACING_DISAGREEMENT_FACTOR,
  spacingDisagreement,
  TYPICAL_BODY_DEPTH_MM,
  TYPICAL_FIELD_HEIGHT_MM,
  type LandmarkQualityInput,
} from '../../core/inference/index';
import { LANDMARK_NAMES, type LandmarkName } from '../../core/landmarks/index';
import { REPO_ROOT } from '../shared-data';

// The tests below break the manifest's nested fields on purpose: a loosely typed copy is the point.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const tinyManifest = (): Record<string, any> =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/models/tiny/manifest.json'), 'utf8'));

describe('manifest', () => {
  it('accepts the tiny test model manifest', () => {
    const m = parseManifest(tinyManifest());
    expect(m.id).toBe('tiny');
    expect(m.stages.refine.mmPerPixel).toBe(0.5);
    expect(m.landmarks).toEqual(LANDMARK_NAMES);
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  it.each<[string, (m: Record<string, any>) => void, RegExp]>([
    [
      'an unknown landmark name',
      (m) => {
        m.landmarks[0] = 'C5x';
      },
      /unknown names: C5x/,
    ],
    [
      'a missing landmark',
      (m) => {
        m.landmarks.pop();
      },
      /missing: C4ua/,
    ],
    [
      'an output shape that does not fit the landmarks',
      (m) => {
        m.stages.locate.output.shape = [1, 12, 64, 64];
      },
      /expected \[1, 13, 64, 64\]/,
    ],
    [
      'a two-channel input',
      (m) => {
        m.stages.refine.input.shape = [1, 2, 48, 48];
      },
      /\[1, 1, H, W\]/,
    ],
    [
      'an unsupported normalisation',
      (m) => {
        m.stages.locate.normalization = 'minmax';
      },
      /"minmax" is not supported/,
    ],
    [
      'an unsupported resize',
      (m) => {
        m.stages.locate.resize = 'stretch';
      },
      /"stretch" is not supported/,
    ],
    [
      'a region size that is not shape x mmPerPixel',
      (m) => {
        m.stages.refine.roiMm = [30, 24];
      },
      /roiMm \[30, 24\] does not equal/,
    ],
    [
      'a malformed sha256',
      (m) => {
        m.stages.refine.sha256 = 'abc';
      },
      /stages.refine.sha256 must be a sha256/,
    ],
    [
      'no id',
      (m) => {
        delete m.id;
      },
      /manifest.id must be/,
    ],
  ])('refuses a manifest with %s', (_what, mutate, message) => {
    const m = tinyManifest();
    mutate(m);
    expect(() => parseManifest(m)).toThrow(message);
  });

  it('reads the optional quality.minConfidence', () => {
    const m = tinyManifest();
    expect(parseManifest(m).minConfidence).toBeNull();
    m.quality = { minConfidence: 0.25 };
    expect(parseManifest(m).minConfidence).toBe(0.25);
  });
});

/** A plausible C2-C4 layout (0.1 mm/px): C3 and C4 bodies 150 px deep, vertebrae stacked downwards. */
const LAYOUT: Record<LandmarkName, [number, number]> = {
  C2p: [400, 500],
  C2m: [470, 490],
  C2a: [550, 505],
  C3up: [400, 540],
  C3ua: [550, 545],
  C3lp: [400, 680],
  C3m: [470, 675],
  C3la: [550, 690],
  C4up: [400, 720],
  C4ua: [550, 725],
  C4lp: [400, 860],
  C4m: [470, 855],
  C4la: [550, 870],
};

function points(change: Partial<Record<LandmarkName, Partial<LandmarkQualityInput>>> = {}): LandmarkQualityInput[] {
  return LANDMARK_NAMES.map((name) => ({
    name,
    x: LAYOUT[name][0],
    y: LAYOUT[name][1],
    confidence: 0.8,
    atRegionEdge: false,
    ...change[name],
  }));
}

describe('quality gate', () => {
  it('passes confident landmarks in anatomical order', () => {
    expect(assessQuality(points(), 1000, 1200)).toEqual({ verdict: 'ok', problems: [], landmarkIssues: {} });
  });

  it.each<[string, Partial<Record<LandmarkName, Partial<LandmarkQualityInput>>>, 'uncertain' | 'failed', RegExp]>([
    ['one low confidence', { C3m: { confidence: 0.1 } }, 'uncertain', /Low confidence for C3m/],
    ['a confidence that is not a number', { C3m: { confidence: Number.NaN } }, 'uncertain', /Low confidence for C3m/],
    ['a landmark at the region edge', { C2p: { atRegionEdge: true } }, 'uncertain', /C2p lie at the edge/],
    [
      'C4 at the bottom border',
      { C4lp: { y: 1198.5 }, C4m: { y: 1199 }, C4la: { y: 1199.5 } },
      'uncertain',
      /cut off by the image border \(C4lp, C4m, C4la\)/,
    ],
    [
      "C4's lower border beyond the bottom border (a film that ends inside C4)",
      { C4lp: { y: 1230 }, C4m: { y: 1199 }, C4la: { y: 1240 } },
      'failed',
      /^C2-C4 are cut off by the image border: C4lp, C4la would lie outside the image, so no stage .*\(C4m\)\.$/,
    ],
    [
      'C3 above C2',
      { C3lp: { y: 400 }, C3m: { y: 400 }, C3la: { y: 400 } },
      'failed',
      /not found in their anatomical order/,
    ],
    [
      'four unreliable landmarks',
      { C2p: { confidence: 0 }, C2m: { confidence: 0 }, C2a: { confidence: 0 }, C3up: { confidence: 0 } },
      'failed',
      /Low confidence/,
    ],
  ])('flags %s', (_what, change, verdict, message) => {
    const q = assessQuality(points(change), 1000, 1200);
    expect(q.verdict).toBe(verdict);
    expect(q.problems.join(' ')).toMatch(message);
  });

  it('names the issues of each landmark', () => {
    const q = assessQuality(points({ C3m: { confidence: 0.1, atRegionEdge: true } }), 1000, 1200);
    expect(q.landmarkIssues).toEqual({ C3m: ['low-confidence', 'at-region-edge'] });
  });

  it('says "check" for expected errors only from the image threshold up, and keeps marking the flagged points', () => {
    const t = { ...DEFAULT_QUALITY_THRESHOLDS, flagMm: 0.9, imageCheckMm: 1.3 };
    const all = (mm: number): LandmarkQualityInput[] =>
      points()
        .map((p) => ({ ...p, expectedErrorMm: 0.5 }))
        .map((p) => (p.name === 'C4m' ? { ...p, expectedErrorMm: mm } : p));
    const below = assessQuality(all(1.1), 1000, 1200, t);
    expect(below).toEqual({ verdict: 'ok', problems: [], landmarkIssues: { C4m: ['high-expected-error'] } });
    const above = assessQuality(all(1.4), 1000, 1200, t);
    expect(above.verdict).toBe('uncertain');
    expect(above.problems).toEqual(['Check C4m ~1.4 mm: expected to be 0.9 mm off or more.']);
    // Without an image threshold (older decoding files) any flagged point makes the image 'check'.
    expect(assessQuality(all(1.1), 1000, 1200, { ...DEFAULT_QUALITY_THRESHOLDS, flagMm: 0.9 }).verdict).toBe(
      'uncertain',
    );
  });

  it('never fails an image for expected errors alone: four flagged landmarks say "check", with their reason', () => {
    const t = { ...DEFAULT_QUALITY_THRESHOLDS, flagMm: 0.9, imageCheckMm: 1.3 };
    const flagged = (mm: Partial<Record<LandmarkName, number>>): LandmarkQualityInput[] =>
      points().map((p) => ({ ...p, expectedErrorMm: mm[p.name] ?? 0.5 }));
    const four = assessQuality(flagged({ C2m: 0.9, C3m: 1.3, C4up: 1.0, C4m: 1.5 }), 1000, 1200, t);
    expect(four.verdict).toBe('uncertain');
    expect(four.problems).toEqual([
      'Check C2m ~0.9 mm, C3m ~1.3 mm, C4up ~1.0 mm, C4m ~1.5 mm: expected to be 0.9 mm off or more.',
    ]);
    // All four under the image threshold: still 'check', and why (it was 'failed' with no problem stated); three
    // of them leave the image 'ok', the points marked.
    const quiet = assessQuality(flagged({ C3up: 0.95, C3m: 0.94, C4up: 1.14, C4m: 1.19 }), 1000, 1200, t);
    expect(quiet.verdict).toBe('uncertain');
    expect(quiet.problems).toEqual([
      'Check C3up ~0.9 mm, C3m ~0.9 mm, C4up ~1.1 mm, C4m ~1.2 mm: expected to be 0.9 mm off or more.',
    ]);
    const three = assessQuality(flagged({ C3m: 0.94, C4up: 1.14, C4m: 1.19 }), 1000, 1200, t);
    expect(three.verdict).toBe('ok');
    expect(Object.keys(three.landmarkIssues)).toEqual(['C3m', 'C4up', 'C4m']);
    // Another issue still counts: four landmarks at the region's edge fail the image, expected error or not.
    const edges = points().map((p) =>
      ['C2p', 'C2m', 'C2a', 'C3up'].includes(p.name) ? { ...p, atRegionEdge: true, expectedErrorMm: 1.5 } : p,
    );
    expect(assessQuality(edges, 1000, 1200, t).verdict).toBe('failed');
  });

  it('uses the thresholds it is given', () => {
    const q = assessQuality(points(), 1000, 1200, { ...DEFAULT_QUALITY_THRESHOLDS, minConfidence: 0.9 });
    expect(q.verdict).toBe('failed');
  });
});

describe('scale estimate for uncalibrated images', () => {
  const set = Object.fromEntries(LANDMARK_NAMES.map((n) => [n, imagePoint(LAYOUT[n][0], LAYOUT[n][1])]));

  it('estimates mm/px from the depth of the C3 and C4 lower borders', () => {
    const depthPx = (Math.hypot(150, 10) + Math.hypot(150, 10)) / 2;
    const e = estimateSpacing(set, 1200);
    expect(e.method).toBe('vertebral-body-depth');
    expect(e.mmPerPixel).toBeCloseTo(TYPICAL_BODY_DEPTH_MM / depthPx, 9);
    expect(e.detail).toBe(
      `estimated ${(TYPICAL_BODY_DEPTH_MM / depthPx).toFixed(3)} mm/px assuming C3/C4 bodies ${TYPICAL_BODY_DEPTH_MM} mm deep`,
    );
  });

  it('falls back to the field height when the vertebral estimate is implausible', () => {
    const collapsed = { ...set, C3la: set.C3lp, C4la: set.C4lp };
    const e = estimateSpacing(collapsed, 2400);
    expect(e.method).toBe('field-height');
    expect(e.mmPerPixel).toBeCloseTo(TYPICAL_FIELD_HEIGHT_MM / 2400, 12);
  });

  it('takes a stated spacing for wrong only when it is beyond the factor from the vertebrae, either way', () => {
    const e = estimateSpacing(set, 1200);
    const at = (k: number): ReturnType<typeof spacingDisagreement> =>
      spacingDisagreement({ rowMm: e.mmPerPixel * k, colMm: e.mmPerPixel * k }, e);
    expect(at(1)).toBeNull();
    expect(at(SPACING_DISAGREEMENT_FACTOR * 0.99)).toBeNull();
    expect(at(1 / (SPACING_DISAGREEMENT_FACTOR * 0.99))).toBeNull();
    const big = at(2);
    expect(big?.factor).toBeCloseTo(2, 9);
    expect(big?.message).toMatch(
      /^The stated pixel spacing \(0\.\d{3} mm\/px\) makes C3 and C4 2\.0 times their usual size/,
    );
    expect(big?.message).toMatch(/check the spacing\. The landmarks were placed at the vertebrae’s scale/);
    expect(at(0.5)?.message).toMatch(/makes C3 and C4 50% of their usual size/);
    // Rows and columns count alike (their geometric mean).
    expect(spacingDisagreement({ rowMm: e.mmPerPixel * 4, colMm: e.mmPerPixel }, e)?.factor).toBeCloseTo(2, 9);
    // Nothing to compare with when the estimate is only the field height.
    const field = estimateSpacing({ ...set, C3la: set.C3lp, C4la: set.C4lp }, 2400);
    expect(spacingDisagreement({ rowMm: 1, colMm: 1 }, field)).toBeNull();
  });
});
