import { describe, expect, it } from 'vitest';
import { imagePoint } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkSet } from '../../core/landmarks/index';
import { assess, type StageResult } from '../../core/cvm/index';
import { syntheticLandmarks } from './synthetic-landmarks';
import {
  agreesAllowingBorderline,
  mean,
  median,
  radialErrors,
  stageAgreement,
  stageOutcome,
  successDetectionRate,
} from '../../core/metrics/index';

const truth = syntheticLandmarks({
  concavity: [0.12, 0.1, 0.02],
  C3: { ratio: 1.3, heightRatio: 0.95, height: 11 },
  C4: { ratio: 1.3, heightRatio: 0.95, height: 11 },
});
const shifted = (dx: number, dy: number): LandmarkSet =>
  Object.fromEntries(LANDMARK_NAMES.map((n) => [n, imagePoint(truth[n]!.x + dx, truth[n]!.y + dy)]));

describe('radialErrors()', () => {
  it('a prediction 3 px right and 4 px down is 5 px and 0.5 mm off at every landmark', () => {
    const r = radialErrors(shifted(3, 4), truth, { rowMm: 0.1, colMm: 0.1 });
    expect(r.errors).toHaveLength(13);
    for (const e of r.errors) {
      expect(e.px).toBeCloseTo(5, 12);
      expect(e.mm).toBeCloseTo(0.5, 12);
    }
    expect(r.errors.map((e) => e.name)).toEqual([...LANDMARK_NAMES]);
  });

  it('honours non-square pixels: 10 px across columns of 0.2 mm is 2 mm', () => {
    const r = radialErrors(shifted(10, 0), truth, { rowMm: 0.1, colMm: 0.2 });
    expect(r.errors[0]!.mm).toBeCloseTo(2, 12);
  });

  it('gives mm as null when the spacing is unknown', () => {
    expect(radialErrors(shifted(1, 0), truth, null).errors.every((e) => e.mm === null)).toBe(true);
  });

  it('leaves out skipped landmarks and lists those missing on either side', () => {
    const pred: LandmarkSet = { ...shifted(1, 1), C3m: undefined, C4la: imagePoint(Number.NaN, 1) };
    const partialTruth: LandmarkSet = { ...truth, C2a: undefined };
    const r = radialErrors(pred, partialTruth, null, ['C2m']);
    expect(r.missingInPrediction).toEqual(['C3m', 'C4la']);
    expect(r.missingInTruth).toEqual(['C2a']);
    expect(r.errors.map((e) => e.name)).not.toContain('C2m');
    expect(r.errors).toHaveLength(9);
  });
});

describe('summary statistics', () => {
  it.each([
    [[1, 2, 3, 10], 4, 2.5],
    [[5], 5, 5],
    [[3, 1, 2], 2, 2],
  ])('mean and median of %j are %f and %f', (values, m, med) => {
    expect(mean(values)).toBeCloseTo(m, 12);
    expect(median(values)).toBeCloseTo(med, 12);
  });

  it('the mean, median and SDR of nothing are NaN, not 0', () => {
    expect(mean([])).toBeNaN();
    expect(median([])).toBeNaN();
    expect(successDetectionRate([], 2)).toBeNaN();
  });

  it('median does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('the success detection rate counts errors within the radius, the radius included', () => {
    expect(successDetectionRate([0.5, 1.9, 2.0, 2.1, 4], 2)).toBeCloseTo(0.6, 12);
  });
});

describe('stage agreement', () => {
  it('counts exact and within-one agreement and fills the confusion table by truth then prediction', () => {
    const a = stageAgreement([
      { truth: 'CS3', predicted: 'CS3' },
      { truth: 'CS3', predicted: 'CS4' },
      { truth: 'CS1', predicted: 'CS6' },
      { truth: 'no-fit', predicted: 'no-fit' },
      { truth: 'CS2', predicted: 'error' },
    ]);
    expect(a).toMatchObject({ total: 5, exact: 2, withinOne: 2 });
    expect(a.exactRate).toBeCloseTo(0.4, 12);
    expect(a.confusion.CS3.CS4).toBe(1);
    expect(a.confusion.CS1.CS6).toBe(1);
    expect(a.confusion.CS2.error).toBe(1);
    expect(a.confusion.CS4.CS3).toBe(0);
  });

  it('of no pairs has NaN rates', () => {
    expect(stageAgreement([]).exactRate).toBeNaN();
  });

  it('stageOutcome reduces assessments and results to a stage, no-fit or error', () => {
    const ok = assess(truth, { rowMm: 0.1, colMm: 0.1 });
    expect(stageOutcome(ok)).toBe('CS3');
    expect(ok.ok && stageOutcome(ok.result)).toBe('CS3');
    expect(stageOutcome(assess({}, null))).toBe('error');
    const noFit: StageResult = {
      kind: 'no-fit',
      nearest: ['CS3'],
      reason: '',
      comparisons: [],
      notes: [],
      preset: 'default',
    };
    expect(stageOutcome(noFit)).toBe('no-fit');
  });

  it('a borderline result agrees with either of its candidates and nothing else', () => {
    const a = assess(
      syntheticLandmarks({
        concavity: [0.12, 0.065, 0.02],
        C3: { ratio: 1.5, heightRatio: 0.7, height: 11 },
        C4: { ratio: 1.5, heightRatio: 0.7, height: 11 },
      }),
      { rowMm: 0.1, colMm: 0.1 },
    );
    if (!a.ok) throw new Error(a.error.message);
    expect(a.result.kind === 'stage' && a.result.borderline?.candidates).toEqual(['CS2', 'CS3']);
    expect(agreesAllowingBorderline(a.result, 'CS2')).toBe(true);
    expect(agreesAllowingBorderline(a.result, 'CS3')).toBe(true);
    expect(agreesAllowingBorderline(a.result, 'CS4')).toBe(false);
  });
});
