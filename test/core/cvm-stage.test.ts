import { describe, expect, it } from 'vitest';
import {
  assess,
  stage,
  stageLabel,
  CVMT_THRESHOLDS,
  DEFAULT_THRESHOLDS,
  PEAK_GROWTH,
  CVM_STAGES,
  type Assessment,
  type StageResult,
  type Thresholds,
} from '../../core/cvm/index';
import { syntheticLandmarks, type SyntheticBody, type SyntheticSpec } from './synthetic-landmarks';

const MM = { rowMm: 0.1, colMm: 0.1 };
const body = (ratio: number, heightRatio: number, height = 11): SyntheticBody => ({ ratio, heightRatio, height });
const TRAPEZOID = body(1.5, 0.7);
const HORIZONTAL = body(1.3, 0.95);
const SQUARE = body(1.0, 0.97);
const VERTICAL = body(0.8, 0.97);
const FLAT = 0.02;
const CONCAVE = 0.12;

function spec(
  concavity: [number, number, number],
  C3: SyntheticBody,
  C4: SyntheticBody,
  extra: Partial<SyntheticSpec> = {},
): SyntheticSpec {
  return { concavity, C3, C4, ...extra };
}

function resultOf(
  s: SyntheticSpec,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
  spacing: typeof MM | null = MM,
): StageResult {
  const a: Assessment = assess(syntheticLandmarks(s), spacing, thresholds);
  if (!a.ok) throw new Error(`unexpected staging error: ${a.error.message}`);
  return a.result;
}

describe("stage() by the 2018 user's guide table", () => {
  it.each([
    ['no concavity and two trapezoids is CS1', spec([FLAT, FLAT, FLAT], TRAPEZOID, TRAPEZOID), 'CS1'],
    ['a concave C2 only with two trapezoids is CS2', spec([CONCAVE, FLAT, FLAT], TRAPEZOID, TRAPEZOID), 'CS2'],
    ['concave C2 and C3 with two trapezoids is CS3', spec([CONCAVE, CONCAVE, FLAT], TRAPEZOID, TRAPEZOID), 'CS3'],
    [
      'concave C2 and C3 with a trapezoid C3 and horizontal C4 is CS3',
      spec([CONCAVE, CONCAVE, FLAT], TRAPEZOID, HORIZONTAL),
      'CS3',
    ],
    [
      'concave C2 and C3 with two horizontal rectangles is CS3',
      spec([CONCAVE, CONCAVE, FLAT], HORIZONTAL, HORIZONTAL),
      'CS3',
    ],
    [
      'three concavities and two horizontal rectangles is CS4',
      spec([CONCAVE, CONCAVE, CONCAVE], HORIZONTAL, HORIZONTAL),
      'CS4',
    ],
    [
      'three concavities with a square C3 and a horizontal C4 is CS5',
      spec([CONCAVE, CONCAVE, CONCAVE], SQUARE, HORIZONTAL),
      'CS5',
    ],
    ['three concavities with two squares is CS5', spec([CONCAVE, CONCAVE, CONCAVE], SQUARE, SQUARE), 'CS5'],
    [
      'three concavities with a vertical C3 and a square C4 is CS6',
      spec([CONCAVE, CONCAVE, CONCAVE], VERTICAL, SQUARE),
      'CS6',
    ],
    [
      'three concavities with two vertical rectangles is CS6',
      spec([CONCAVE, CONCAVE, CONCAVE], VERTICAL, VERTICAL),
      'CS6',
    ],
  ] as const)('%s', (_name, s, expected) => {
    const r = resultOf(s);
    expect(r.kind).toBe('stage');
    if (r.kind !== 'stage') return;
    expect(r.stage).toBe(expected);
    expect(r.borderline).toBeNull();
    expect(stageLabel(r)).toBe(expected);
    expect(r.peakGrowth).toBe(PEAK_GROWTH[expected]);
    expect(r.rule).toContain(`${expected} by the 2018 user's guide`);
    expect(r.preset).toBe('default');
  });

  it('a stage result compares every measurement with its threshold under a stable id', () => {
    const r = resultOf(spec([CONCAVE, CONCAVE, CONCAVE], HORIZONTAL, HORIZONTAL));
    expect(r.comparisons.map((c) => c.id)).toEqual([
      'C2.concavity',
      'C2.concavityMm',
      'C3.concavity',
      'C3.concavityMm',
      'C4.concavity',
      'C4.concavityMm',
      'C3.heightRatio',
      'C3.ratio',
      'C4.heightRatio',
      'C4.ratio',
    ]);
    const c4 = r.comparisons.find((c) => c.id === 'C4.concavity')!;
    expect(c4).toMatchObject({ unit: '%', threshold: 7, deciding: true, withinTolerance: false });
    expect(c4.value).toBeCloseTo(12, 6);
    expect(c4.outcome).toBe('concave: 12.0% of the chord >= 7.0%');
    expect(r.comparisons.find((c) => c.id === 'C4.concavityMm')!.outcome).toBe('concave: 1.72 mm deep >= 0.50 mm');
    expect(r.comparisons.find((c) => c.id === 'C3.ratio')).toMatchObject({
      unit: 'ratio',
      threshold: 1.1,
      deciding: true,
    });
  });

  it('a trapezoid says that its width/height class does not count', () => {
    const r = resultOf(spec([FLAT, FLAT, FLAT], TRAPEZOID, TRAPEZOID));
    expect(r.comparisons.find((c) => c.id === 'C3.ratio')!.outcome).toBe(
      'rectangular horizontal: 1.50 > 1.10 (but a trapezoid by its taper)',
    );
    expect(r.comparisons.find((c) => c.id === 'C3.heightRatio')!.outcome).toBe(
      'trapezoid: anterior height 0.70 of posterior < 0.85',
    );
  });

  it('a measurement whose inversion would not change the stage is not deciding', () => {
    // CS3 allows trapezoid or horizontal rectangle, so C4's trapezoid test cannot change a CS3.
    const r = resultOf(spec([CONCAVE, CONCAVE, FLAT], TRAPEZOID, HORIZONTAL));
    expect(r.comparisons.find((c) => c.id === 'C4.heightRatio')!.deciding).toBe(false);
    expect(r.comparisons.find((c) => c.id === 'C4.concavity')!.deciding).toBe(false); // concave C4 with a trapezoid C3 fits nothing
    expect(r.comparisons.find((c) => c.id === 'C3.concavity')!.deciding).toBe(true);
  });
});

describe('borderline between neighbouring stages', () => {
  it.each([
    [
      'a C2 concavity of 7.5% of the chord is CS1/CS2 borderline',
      spec([0.075, FLAT, FLAT], TRAPEZOID, TRAPEZOID),
      'CS2',
      ['CS1', 'CS2'],
      'C2.concavity',
    ],
    [
      'a C2 concavity of 6.5% of the chord is CS1/CS2 borderline, found CS1',
      spec([0.065, FLAT, FLAT], TRAPEZOID, TRAPEZOID),
      'CS1',
      ['CS1', 'CS2'],
      'C2.concavity',
    ],
    [
      'a C2 concavity 0.6 mm deep on a 6 mm chord is CS1/CS2 borderline on the mm floor',
      spec([0.1, FLAT, FLAT], TRAPEZOID, TRAPEZOID, { c2Chord: 6 }),
      'CS2',
      ['CS1', 'CS2'],
      'C2.concavityMm',
    ],
    [
      'a C3 concavity of 6.5% is CS2/CS3 borderline',
      spec([CONCAVE, 0.065, FLAT], TRAPEZOID, TRAPEZOID),
      'CS2',
      ['CS2', 'CS3'],
      'C3.concavity',
    ],
    [
      'a C4 concavity of 7.5% with horizontal bodies is CS3/CS4 borderline',
      spec([CONCAVE, CONCAVE, 0.075], HORIZONTAL, HORIZONTAL),
      'CS4',
      ['CS3', 'CS4'],
      'C4.concavity',
    ],
    [
      'a C3 width/height of 1.13 is CS4/CS5 borderline',
      spec([CONCAVE, CONCAVE, CONCAVE], body(1.13, 0.95), HORIZONTAL),
      'CS4',
      ['CS4', 'CS5'],
      'C3.ratio',
    ],
    [
      'a C4 width/height of 1.08 is CS4/CS5 borderline, found CS5',
      spec([CONCAVE, CONCAVE, CONCAVE], HORIZONTAL, body(1.08, 0.95)),
      'CS5',
      ['CS4', 'CS5'],
      'C4.ratio',
    ],
    [
      'a C3 width/height of 0.92 beside a square C4 is CS5/CS6 borderline',
      spec([CONCAVE, CONCAVE, CONCAVE], body(0.92, 0.97), SQUARE),
      'CS5',
      ['CS5', 'CS6'],
      'C3.ratio',
    ],
    [
      'a C3 width/height of 0.88 beside a square C4 is CS5/CS6 borderline, found CS6',
      spec([CONCAVE, CONCAVE, CONCAVE], body(0.88, 0.97), SQUARE),
      'CS6',
      ['CS5', 'CS6'],
      'C3.ratio',
    ],
  ] as const)('%s', (_name, s, found, candidates, measurement) => {
    const r = resultOf(s);
    expect(r.kind).toBe('stage');
    if (r.kind !== 'stage') return;
    expect(r.stage).toBe(found);
    expect(r.borderline).not.toBeNull();
    expect(r.borderline!.candidates).toEqual(candidates);
    expect(r.borderline!.measurement).toBe(measurement);
    expect(r.borderline!.detail).toContain('on the other side the stage would be');
    expect(stageLabel(r)).toBe(`${candidates[0]}/${candidates[1]} borderline`);
    const c = r.comparisons.find((x) => x.id === measurement)!;
    expect(c.deciding && c.withinTolerance).toBe(true);
  });

  it('a measurement just outside its tolerance is not borderline', () => {
    const r = resultOf(spec([0.086, FLAT, FLAT], TRAPEZOID, TRAPEZOID));
    expect(r.kind === 'stage' && r.stage).toBe('CS2');
    expect(r.kind === 'stage' && r.borderline).toBeNull();
    expect(r.comparisons.find((c) => c.id === 'C2.concavity')!.withinTolerance).toBe(false);
  });

  it('a near-threshold measurement whose other side fits no stage is noted, not called borderline', () => {
    const r = resultOf(spec([CONCAVE, CONCAVE, 0.065], TRAPEZOID, HORIZONTAL));
    expect(r.kind === 'stage' && r.stage).toBe('CS3');
    expect(r.kind === 'stage' && r.borderline).toBeNull();
    expect(r.notes).toContain(
      'C4.concavity (6.50%) lies within tolerance of 7.00%: on the other side no stage would fit.',
    );
  });

  it('a near-threshold measurement that does not decide leaves the stage firm', () => {
    // C4's trapezoid test within tolerance cannot move a CS3 anywhere.
    const r = resultOf(spec([CONCAVE, CONCAVE, FLAT], TRAPEZOID, body(1.3, 0.86)));
    expect(r.kind === 'stage' && r.stage).toBe('CS3');
    expect(r.kind === 'stage' && r.borderline).toBeNull();
    expect(r.comparisons.find((c) => c.id === 'C4.heightRatio')).toMatchObject({
      withinTolerance: true,
      deciding: false,
    });
  });
});

describe('patterns that fit no stage', () => {
  it.each([
    [
      'C4 concave but C3 flat fits no stage, nearest CS4',
      spec([CONCAVE, FLAT, CONCAVE], HORIZONTAL, HORIZONTAL),
      ['CS4'],
      'C3 flat',
    ],
    [
      'C3 concave but C2 flat fits no stage, nearest CS1 and CS3',
      spec([FLAT, CONCAVE, FLAT], TRAPEZOID, TRAPEZOID),
      ['CS1', 'CS3'],
      'C2 flat',
    ],
    [
      'three concavities with a trapezoid C3 fits no stage, each of CS3-CS5 one criterion away',
      spec([CONCAVE, CONCAVE, CONCAVE], TRAPEZOID, HORIZONTAL),
      ['CS3', 'CS4', 'CS5'],
      'C3 trapezoid',
    ],
    [
      'three concavities with a horizontal C3 and a vertical C4 fits no stage',
      spec([CONCAVE, CONCAVE, CONCAVE], HORIZONTAL, VERTICAL),
      ['CS4', 'CS5', 'CS6'],
      'C4 rectangular vertical',
    ],
    [
      'no concavity with horizontal bodies fits no stage, nearest CS1 and CS3',
      spec([FLAT, FLAT, FLAT], HORIZONTAL, HORIZONTAL),
      ['CS1', 'CS3'],
      'C3 rectangular horizontal',
    ],
  ] as const)('%s', (_name, s, nearest, mentioned) => {
    const r = resultOf(s);
    expect(r.kind).toBe('no-fit');
    if (r.kind !== 'no-fit') return;
    expect(r.nearest).toEqual(nearest);
    expect(r.reason).toContain('No stage fits');
    expect(r.reason).toContain(mentioned);
    expect(stageLabel(r)).toBe(`no stage fits (nearest ${nearest.join(', ')})`);
  });

  it('a no-fit names the stage a near-threshold measurement would give', () => {
    // C3 at 6.5% with C4 clearly concave: counting C3 as concave would make it CS4.
    const r = resultOf(spec([CONCAVE, 0.065, CONCAVE], HORIZONTAL, HORIZONTAL));
    expect(r.kind).toBe('no-fit');
    expect(r.kind === 'no-fit' && r.nearest).toContain('CS4');
    expect(r.kind === 'no-fit' && r.reason).toContain('C3.concavity');
  });
});

describe('without a pixel spacing', () => {
  it('stages by the relative criteria, in px, and says so', () => {
    const r = resultOf(spec([CONCAVE, CONCAVE, CONCAVE], HORIZONTAL, HORIZONTAL), DEFAULT_THRESHOLDS, null);
    expect(r.kind === 'stage' && r.stage).toBe('CS4');
    expect(r.comparisons.some((c) => c.unit === 'mm' || c.id.endsWith('Mm'))).toBe(false);
    expect(r.notes.join(' ')).toContain('Pixel spacing unknown');
  });

  it('a concavity too shallow in mm but deep as a share counts as concave when mm cannot be judged', () => {
    const s = spec([0.1, FLAT, FLAT], TRAPEZOID, TRAPEZOID, { c2Chord: 4 }); // 0.4 mm deep, 10% of the chord
    const withMm = resultOf(s);
    const withoutMm = resultOf(s, DEFAULT_THRESHOLDS, null);
    expect(withMm.kind === 'stage' && withMm.stage).toBe('CS1');
    expect(withMm.comparisons.find((c) => c.id === 'C2.concavity')!.outcome).toBe(
      '10.0% of the chord >= 7.0%, but flat by its depth in mm',
    );
    expect(withMm.comparisons.find((c) => c.id === 'C2.concavityMm')!.outcome).toBe('flat: 0.40 mm deep < 0.50 mm');
    expect(withoutMm.kind === 'stage' && withoutMm.stage).toBe('CS2');
  });

  it('the cvmt preset falls back to the share of the chord and says so', () => {
    const r = resultOf(spec([CONCAVE, FLAT, FLAT], body(1.5, 0.9), body(1.5, 0.9)), CVMT_THRESHOLDS, null);
    expect(r.notes.join(' ')).toContain('the 1 mm concavity threshold cannot be applied');
    expect(r.comparisons.map((c) => c.id)).toContain('C2.concavity');
  });
});

describe('the cvmt preset', () => {
  it('judges concavity in mm only when the spacing is known', () => {
    const r = resultOf(spec([CONCAVE, CONCAVE, CONCAVE], HORIZONTAL, HORIZONTAL), CVMT_THRESHOLDS);
    expect(r.comparisons.map((c) => c.id)).toEqual([
      'C2.concavityMm',
      'C3.concavityMm',
      'C4.concavityMm',
      'C3.heightRatio',
      'C3.widthRatio',
      'C3.ratio',
      'C4.heightRatio',
      'C4.widthRatio',
      'C4.ratio',
    ]);
    expect(r.preset).toBe('cvmt');
  });

  it('counts C3 and C2 as concave when C4 is, where the guide finds no stage', () => {
    const s = spec([CONCAVE, FLAT, CONCAVE], HORIZONTAL, HORIZONTAL);
    expect(resultOf(s).kind).toBe('no-fit');
    const r = resultOf(s, CVMT_THRESHOLDS);
    expect(r.kind === 'stage' && r.stage).toBe('CS4');
    expect(r.kind === 'stage' && r.rule).toContain('count C3 as concave');
  });

  it('decides CS4 by the first horizontal rectangle even beside a vertical one', () => {
    // cvmt's width/height is superior width / posterior height; bodies with heightRatio 1 make it equal the midline
    // ratio.
    const r = resultOf(spec([CONCAVE, CONCAVE, CONCAVE], body(1.3, 1), body(0.8, 1)), CVMT_THRESHOLDS);
    expect(r.kind === 'stage' && r.stage).toBe('CS4');
  });

  it('requires a trapezoid C3 for CS3', () => {
    const r = resultOf(spec([CONCAVE, CONCAVE, FLAT], body(1.3, 1), body(1.3, 1)), CVMT_THRESHOLDS);
    expect(r.kind).toBe('no-fit');
    expect(resultOf(spec([CONCAVE, CONCAVE, FLAT], body(1.3, 1), body(1.3, 1))).kind).toBe('stage');
  });
});

describe('stage() directly', () => {
  it('accepts measurements and defaults to the default preset', () => {
    const a = assess(syntheticLandmarks(spec([CONCAVE, FLAT, FLAT], TRAPEZOID, TRAPEZOID)), MM);
    if (!a.ok) throw new Error(a.error.message);
    expect(stage(a.measurements)).toEqual(a.result);
  });

  it('every stage has a peak growth text for the orthodontist', () => {
    for (const s of CVM_STAGES) expect(PEAK_GROWTH[s]).toMatch(/peak in mandibular growth/);
  });
});
