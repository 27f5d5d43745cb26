import { describe, expect, it } from 'vitest';
import { imagePoint, type PixelSpacingMm } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkSet } from '../../core/landmarks/index';
import { assess, measure, stageLabel, type Measurements } from '../../core/cvm/index';
import { rotate, syntheticLandmarks, type SyntheticSpec } from './synthetic-landmarks';

const MM: PixelSpacingMm = { rowMm: 0.1, colMm: 0.1 };
const BASE: SyntheticSpec = {
  concavity: [0.12, 0.09, 0.05],
  C3: { ratio: 1.2, heightRatio: 0.8, height: 11 },
  C4: { ratio: 1.05, heightRatio: 0.95, height: 12 },
};

function measured(set: LandmarkSet, spacing: PixelSpacingMm | null = MM): Measurements {
  const r = measure(set, spacing);
  if (!r.ok) throw new Error(`unexpected error: ${r.error.message}`);
  return r.value;
}

/** Every length and ratio of a Measurements object, flattened, for comparing two of them. */
function numbers(m: Measurements): number[] {
  const c = (v: { concavity: { depth: number; chord: number; share: number } }) => [
    v.concavity.depth,
    v.concavity.chord,
    v.concavity.share,
  ];
  const b = (x: Measurements['C3']['body']) => [
    x.anteriorHeight,
    x.posteriorHeight,
    x.superiorWidth,
    x.inferiorWidth,
    x.width,
    x.height,
    x.ratio,
    x.heightRatio,
    x.widthRatio,
    x.superiorWidthToPosteriorHeight,
  ];
  return [...c(m.C2), ...c(m.C3), ...c(m.C4), ...b(m.C3.body), ...b(m.C4.body)];
}

function expectSameNumbers(a: Measurements, b: Measurements): void {
  const x = numbers(a);
  const y = numbers(b);
  x.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 9));
}

function mapSet(set: LandmarkSet, f: (p: { x: number; y: number }) => { x: number; y: number }): LandmarkSet {
  const out: LandmarkSet = {};
  for (const n of LANDMARK_NAMES) {
    const q = f(set[n]!);
    out[n] = imagePoint(q.x, q.y);
  }
  return out;
}

describe('measure()', () => {
  it('gives back the concavities, heights and ratios a landmark set was built with, in mm', () => {
    const m = measured(syntheticLandmarks({ ...BASE, rotationDeg: 17 }));
    expect(m.unit).toBe('mm');
    expect(m.facing).toBe('right');
    expect(m.C2.concavity.share).toBeCloseTo(0.12, 9);
    expect(m.C2.concavity.chord).toBeCloseTo(15, 9);
    expect(m.C2.concavity.depth).toBeCloseTo(1.8, 9);
    expect(m.C3.concavity.share).toBeCloseTo(0.09, 9);
    expect(m.C3.body.ratio).toBeCloseTo(1.2, 9);
    expect(m.C3.body.heightRatio).toBeCloseTo(0.8, 9);
    expect(m.C3.body.height).toBeCloseTo(11, 9);
    expect(m.C3.body.width).toBeCloseTo(13.2, 9);
    expect(m.C3.body.posteriorHeight).toBeCloseTo(22 / 1.8, 9);
    expect(m.C3.body.shape).toBe('trapezoid');
    expect(m.C4.body.shape).toBe('square');
  });

  it('reports lengths in px, labelled px, when the spacing is unknown', () => {
    const m = measured(syntheticLandmarks(BASE), null);
    expect(m.unit).toBe('px');
    expect(m.spacing).toBeNull();
    expect(m.C2.concavity.chord).toBeCloseTo(150, 9);
    expect(m.C2.concavity.share).toBeCloseTo(0.12, 9);
  });

  it('gives a bulging lower border a negative depth', () => {
    const m = measured(syntheticLandmarks({ ...BASE, concavity: [-0.03, 0.09, 0.05] }));
    expect(m.C2.concavity.depth).toBeCloseTo(-0.45, 9);
  });

  it('finds a patient facing left from the landmarks and measures the same', () => {
    const m = measured(syntheticLandmarks({ ...BASE, facing: 'left' }));
    expect(m.facing).toBe('left');
    expectSameNumbers(measured(syntheticLandmarks(BASE)), m);
  });
});

describe('measurements do not depend on head tilt, position or resolution', () => {
  const reference = measured(syntheticLandmarks(BASE));
  const referenceLabel = (() => {
    const a = assess(syntheticLandmarks(BASE), MM);
    return a.ok ? stageLabel(a.result) : a.error.message;
  })();

  it.each([-35, -10, 5, 20, 45, 90, 180])('rotating the landmarks by %i degrees changes no measurement', (deg) => {
    const set = syntheticLandmarks(BASE);
    const centre = imagePoint(1000, 1000);
    const turned = mapSet(set, (p) => rotate(imagePoint(p.x, p.y), (deg * Math.PI) / 180, centre));
    expectSameNumbers(reference, measured(turned));
  });

  it.each([
    [250, -400],
    [-800, 30],
    [0.37, 0.91],
  ])('moving the landmarks by (%f, %f) px changes no measurement', (dx, dy) => {
    const moved = mapSet(syntheticLandmarks(BASE), (p) => ({ x: p.x + dx, y: p.y + dy }));
    expectSameNumbers(reference, measured(moved));
  });

  it.each([0.05, 0.139, 0.3])('an image at %f mm per pixel with that spacing gives the same mm', (mmPerPx) => {
    const set = syntheticLandmarks({ ...BASE, mmPerPx });
    expectSameNumbers(reference, measured(set, { rowMm: mmPerPx, colMm: mmPerPx }));
  });

  it('non-square pixels are honoured: stretching x twice with half the column spacing changes nothing', () => {
    const stretched = mapSet(syntheticLandmarks({ ...BASE, rotationDeg: 25 }), (p) => ({ x: p.x * 2, y: p.y }));
    expectSameNumbers(reference, measured(stretched, { rowMm: 0.1, colMm: 0.05 }));
  });

  it.each([-30, 0, 30])('the stage label is the same with the head tilted %i degrees, mirrored and rescaled', (deg) => {
    const set = syntheticLandmarks({ ...BASE, rotationDeg: deg, facing: 'left', mmPerPx: 0.2 });
    const a = assess(set, { rowMm: 0.2, colMm: 0.2 });
    expect(a.ok && stageLabel(a.result)).toBe(referenceLabel);
  });
});

describe('degenerate input gives an error value, never a stage or an exception', () => {
  const good = syntheticLandmarks(BASE);
  const swap = (set: LandmarkSet, pairs: [keyof LandmarkSet, keyof LandmarkSet][]): LandmarkSet => {
    const out = { ...set };
    for (const [a, b] of pairs) [out[a], out[b]] = [set[b], set[a]];
    return out;
  };
  const at = good.C3lp!;

  it.each([
    ['a missing landmark', { ...good, C3m: undefined }, null, 'missing-landmark', ['C3m'], 'C3m'],
    [
      'two missing landmarks',
      { ...good, C2p: undefined, C4ua: undefined },
      null,
      'missing-landmark',
      ['C2p', 'C4ua'],
      'C2p, C4ua',
    ],
    ['a landmark that is null in JSON', { ...good, C4m: null as never }, null, 'missing-landmark', ['C4m'], 'C4m'],
    ['a NaN coordinate', { ...good, C4la: imagePoint(Number.NaN, 10) }, null, 'not-finite', ['C4la'], 'NaN'],
    [
      'an infinite coordinate',
      { ...good, C2a: imagePoint(10, Number.POSITIVE_INFINITY) },
      null,
      'not-finite',
      ['C2a'],
      'C2a',
    ],
    ['coincident lower corners', { ...good, C3la: at }, null, 'coincident-points', ['C3lp', 'C3la'], 'coincide'],
    [
      'all points in one place',
      mapSet(good, () => ({ x: 5, y: 5 })),
      null,
      'coincident-points',
      ['C2p', 'C2a'],
      'coincide',
    ],
    ['lower corners of C3 swapped', swap(good, [['C3lp', 'C3la']]), null, 'inside-out', ['C3lp', 'C3la'], 'inside out'],
    ['upper corners of C4 swapped', swap(good, [['C4up', 'C4ua']]), null, 'inside-out', ['C4up', 'C4ua'], 'inside out'],
    [
      'C3 drawn upside down (upper and lower borders swapped)',
      swap(good, [
        ['C3up', 'C3lp'],
        ['C3ua', 'C3la'],
      ]),
      null,
      'inside-out',
      ['C3up', 'C3ua', 'C3lp', 'C3la'],
      'below its lower border',
    ],
    [
      'a deepest point beyond the anterior corner',
      { ...good, C3m: imagePoint(good.C3la!.x + 20, good.C3la!.y - 5) },
      null,
      'deepest-point-outside-border',
      ['C3lp', 'C3m', 'C3la'],
      'beyond the corners',
    ],
    ['a zero pixel spacing', good, { rowMm: 0, colMm: 0.1 }, 'invalid-spacing', [], 'positive'],
    ['a NaN pixel spacing', good, { rowMm: Number.NaN, colMm: Number.NaN }, 'invalid-spacing', [], 'positive'],
  ] as const)('%s', (_name, set, spacing, code, landmarks, text) => {
    const a = assess(set as LandmarkSet, spacing);
    expect(a.ok).toBe(false);
    if (a.ok) return;
    expect(a.error.code).toBe(code);
    expect(a.error.landmarks).toEqual(landmarks);
    expect(a.error.message).toContain(text);
  });

  it('C4 drawn on top of C2 leaves no direction for the spine', () => {
    const moved: LandmarkSet = { ...good };
    const dx = (good.C2p!.x + good.C2a!.x - good.C4lp!.x - good.C4la!.x) / 2;
    const dy = (good.C2p!.y + good.C2a!.y - good.C4lp!.y - good.C4la!.y) / 2;
    for (const n of ['C4up', 'C4ua', 'C4lp', 'C4la', 'C4m'] as const)
      moved[n] = imagePoint(good[n]!.x + dx, good[n]!.y + dy);
    const a = assess(moved, MM);
    expect(!a.ok && a.error.message).toContain('direction of the spine cannot be found');
  });

  it('a whole vertebra mirrored against the others is inside out', () => {
    const c3 = ['C3up', 'C3ua', 'C3lp', 'C3la', 'C3m'] as const;
    const midX = (good.C3lp!.x + good.C3la!.x) / 2;
    const flipped: LandmarkSet = { ...good };
    for (const n of c3) flipped[n] = imagePoint(2 * midX - good[n]!.x, good[n]!.y);
    const a = assess(flipped, MM);
    expect(!a.ok && a.error.code).toBe('inside-out');
  });
});
