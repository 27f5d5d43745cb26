import { describe, expect, it } from 'vitest';
import { imagePoint } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../../core/landmarks/index';
import {
  assess,
  computeStagingFeatures,
  CVM_STAGES,
  measure,
  parseStagingParams,
  physicalCoordinates,
  STAGE_MODEL,
  FEATURE_COUNT,
  type Assessment,
} from '../../core/cvm/index';
import { syntheticLandmarks, type SyntheticBody, type SyntheticSpec } from './synthetic-landmarks';
import { probabilisticAgreement, quadraticWeightedKappa } from '../../core/metrics/index';

const MM = { rowMm: 0.1, colMm: 0.1 };
const body = (ratio: number, heightRatio: number, height = 11): SyntheticBody => ({ ratio, heightRatio, height });
const FLAT = 0.02;
const CONCAVE = 0.12;
const TRAPEZOID = body(1.5, 0.7);
const HORIZONTAL = body(1.3, 0.95);
const VERTICAL = body(0.8, 0.97);

/**
 * One clear-cut spine per stage of the 2018 table (squares as wide as the clinicians' CS5 spines: both within 10% of
 * 1).
 */
const CLEAR_CUT: readonly [string, SyntheticSpec][] = [
  ['CS1', { concavity: [FLAT, FLAT, FLAT], C3: TRAPEZOID, C4: TRAPEZOID }],
  ['CS2', { concavity: [CONCAVE, FLAT, FLAT], C3: TRAPEZOID, C4: TRAPEZOID }],
  ['CS3', { concavity: [CONCAVE, CONCAVE, FLAT], C3: TRAPEZOID, C4: TRAPEZOID }],
  ['CS4', { concavity: [CONCAVE, CONCAVE, CONCAVE], C3: HORIZONTAL, C4: HORIZONTAL }],
  ['CS5', { concavity: [CONCAVE, CONCAVE, CONCAVE], C3: body(1.05, 0.97), C4: body(1.1, 0.97) }],
  ['CS6', { concavity: [CONCAVE, CONCAVE, CONCAVE], C3: VERTICAL, C4: VERTICAL }],
];

function ok(a: Assessment): Extract<Assessment, { ok: true }> {
  if (!a.ok) throw new Error(`unexpected staging error: ${a.error.message}`);
  return a;
}

const ALL_MODEL = Object.fromEntries(LANDMARK_NAMES.map((n) => [n, 0.63])) as Record<LandmarkName, number>;

describe('the clinician-fitted staging model', () => {
  const cases = CLEAR_CUT.flatMap(([stage, spec]) =>
    ([-30, -10, 0, 15, 30] as const).flatMap((rotationDeg) =>
      (['right', 'left'] as const).map((facing) => [stage, rotationDeg, facing, spec] as const),
    ),
  );
  it.each(cases)(
    'a clear-cut textbook %s is %s when the head is tilted %i degrees, facing %s',
    (stage, rotationDeg, facing, spec) => {
      const a = ok(assess(syntheticLandmarks({ ...spec, rotationDeg, facing }), MM));
      expect(a.result.kind === 'stage' && a.result.stage).toBe(stage);
      expect(a.staging.stage).toBe(stage);
      expect(a.staging.textbook).toMatchObject({ stage, agrees: true, note: null });
    },
  );

  it.each(CLEAR_CUT)(
    'the probabilities of a %s spine sum to 1, the runner-up is the second most probable stage',
    (_stage, spec) => {
      for (const options of [{}, { landmarkErrorMm: ALL_MODEL }]) {
        const s = ok(assess(syntheticLandmarks(spec), MM, undefined, options)).staging;
        expect(s.probabilities).toHaveLength(6);
        expect(s.probabilities.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
        for (const p of s.probabilities) expect(p).toBeGreaterThanOrEqual(0);
        const sorted = [...s.probabilities].sort((x, y) => y - x);
        expect(s.probability).toBe(sorted[0]);
        expect(s.runnerUpProbability).toBe(sorted[1]);
        expect(s.runnerUp).not.toBe(s.stage);
        expect(s.peakGrowth.ahead + s.peakGrowth.withinYear + s.peakGrowth.past).toBeCloseTo(1, 12);
      }
    },
  );

  it('does not depend on the pixel spacing, known or not, with or without landmark error', () => {
    for (const [, spec] of CLEAR_CUT) {
      const set = syntheticLandmarks({ ...spec, rotationDeg: 12 });
      // Points placed by a person: any spacing, right or wrong, or none gives the same probabilities.
      const person = ok(assess(set, null)).staging.probabilities;
      for (const mm of [0.05, 0.1, 0.139, 0.3]) {
        ok(assess(set, { rowMm: mm, colMm: mm })).staging.probabilities.forEach((p, i) =>
          expect(p).toBeCloseTo(person[i]!, 12),
        );
      }
      // Landmark error in mm without a spacing is taken relative to the vertebrae: any image scale gives the same.
      const scaledBy = (k: number): LandmarkSet =>
        Object.fromEntries(Object.entries(set).map(([n, p]) => [n, imagePoint(p.x * k, p.y * k)])) as LandmarkSet;
      const relative = ok(assess(set, null, undefined, { landmarkErrorMm: ALL_MODEL })).staging.probabilities;
      for (const k of [0.5, 1.7, 3]) {
        ok(assess(scaledBy(k), null, undefined, { landmarkErrorMm: ALL_MODEL })).staging.probabilities.forEach((p, i) =>
          expect(p).toBeCloseTo(relative[i]!, 9),
        );
      }
      // With a spacing, the same physical spine imaged at any resolution gives the same.
      const physical = ok(assess(set, MM, undefined, { landmarkErrorMm: ALL_MODEL })).staging.probabilities;
      for (const mm of [0.05, 0.139, 0.3]) {
        ok(
          assess(scaledBy(0.1 / mm), { rowMm: mm, colMm: mm }, undefined, { landmarkErrorMm: ALL_MODEL }),
        ).staging.probabilities.forEach((p, i) => expect(p).toBeCloseTo(physical[i]!, 9));
      }
    }
  });

  it('moves smoothly: half a millimetre moves probabilities by a bounded amount, and a quarter by about half as much', () => {
    for (const [, spec] of CLEAR_CUT) {
      const set = syntheticLandmarks(spec);
      for (const options of [{}, { landmarkErrorMm: ALL_MODEL }]) {
        const base = ok(assess(set, MM, undefined, options)).staging.probabilities;
        for (const name of LANDMARK_NAMES) {
          for (const [dx, dy] of [
            [1, 0],
            [0, 1],
            [-0.7071, 0.7071],
          ] as const) {
            const moved = (mm: number): readonly number[] => {
              const p = set[name]!;
              return ok(
                assess(
                  { ...set, [name]: imagePoint(p.x + (dx * mm) / 0.1, p.y + (dy * mm) / 0.1) },
                  MM,
                  undefined,
                  options,
                ),
              ).staging.probabilities;
            };
            const half = moved(0.5);
            const quarter = moved(0.25);
            const dHalf = Math.max(...half.map((p, i) => Math.abs(p - base[i]!)));
            const dQuarter = Math.max(...quarter.map((p, i) => Math.abs(p - base[i]!)));
            // The steepest is a flat C2 deepening by 0.5 mm (3% of its chord; clinicians' CS1 and CS2 differ by about 1
            // mm).
            expect(dHalf).toBeLessThan(0.4);
            // Smooth, not a step: the change grows about linearly with the move.
            if (dHalf > 1e-3) expect(dQuarter / dHalf).toBeGreaterThan(0.3);
            if (dHalf > 1e-3) expect(dQuarter / dHalf).toBeLessThan(0.7);
          }
        }
      }
    }
  });

  it("folds in landmark error beyond a person's placement, and only that", () => {
    const set = syntheticLandmarks({ concavity: [CONCAVE, CONCAVE, 0.05], C3: HORIZONTAL, C4: HORIZONTAL });
    const person = ok(assess(set, MM)).staging;
    expect(person.uncertainty).toMatchObject({ averagedLandmarks: 0, samples: 0 });
    // An expected error no larger than a person's adds nothing.
    const small = ok(assess(set, MM, undefined, { landmarkErrorMm: { C4m: 0.3 } })).staging;
    expect(small.uncertainty.averagedLandmarks).toBe(0);
    expect(small.probabilities).toEqual(person.probabilities);
    // A large error on the deciding point flattens the probabilities (lower top probability).
    const large = ok(assess(set, MM, undefined, { landmarkErrorMm: { C4m: 2, C4lp: 2, C4la: 2 } })).staging;
    expect(large.uncertainty).toMatchObject({ averagedLandmarks: 3, samples: STAGE_MODEL.uncertainty.samples });
    expect(large.probability).toBeLessThan(person.probability);
    // null: placed by the model, error unknown: the model's default error.
    const unknown = ok(assess(set, MM, undefined, { landmarkErrorMm: { C4m: null } })).staging;
    expect(unknown.uncertainty.averagedLandmarks).toBe(1);
    // Deterministic: the same input gives the same bits.
    expect(ok(assess(set, MM, undefined, { landmarkErrorMm: ALL_MODEL })).staging.probabilities).toEqual(
      ok(assess(set, MM, undefined, { landmarkErrorMm: ALL_MODEL })).staging.probabilities,
    );
  });

  it('explains where the textbook criteria and the clinicians part, in one sentence', () => {
    // Concave C2 and C3, flat C4, but C3 no longer tapered and wide: fits CS3 by the table.
    const noFit = ok(
      assess(syntheticLandmarks({ concavity: [CONCAVE, CONCAVE, CONCAVE], C3: TRAPEZOID, C4: HORIZONTAL }), MM),
    );
    expect(noFit.result.kind).toBe('no-fit');
    expect(noFit.staging.textbook.stage).toBeNull();
    expect(noFit.staging.textbook.note).toMatch(
      new RegExp(
        `^Textbook criteria fit no stage: .*C3 is still tapered \\(trapezoid\\).*; clinicians staged spines like this ${noFit.staging.stage}\\.$`,
      ),
    );
    const squares = ok(
      assess(syntheticLandmarks({ concavity: [CONCAVE, CONCAVE, CONCAVE], C3: body(1, 0.97), C4: body(1, 0.97) }), MM),
    );
    expect(squares.result.kind === 'stage' && squares.result.stage).toBe('CS5');
    if (squares.staging.stage !== 'CS5') {
      expect(squares.staging.textbook.note).toBe(
        `Textbook criteria give CS5 (for ${squares.staging.stage}: neither C3 nor C4 rectangular vertical); clinicians staged spines like this ${squares.staging.stage}.`,
      );
    }
  });

  it('lists what each measurement contributes to the stage over the runner-up', () => {
    const s = ok(assess(syntheticLandmarks(CLEAR_CUT[3]![1]), MM)).staging;
    expect(s.contributions).toHaveLength(FEATURE_COUNT);
    const sum = s.contributions.reduce((x, c) => x + c.towardsStage, 0);
    const bias =
      (STAGE_MODEL.bias[CVM_STAGES.indexOf(s.stage)]! - STAGE_MODEL.bias[CVM_STAGES.indexOf(s.runnerUp)]!) /
      STAGE_MODEL.temperature;
    // Without landmark error, the log-odds of stage over runner-up are exactly the bias plus the contributions.
    expect(sum + bias).toBeCloseTo(Math.log(s.probability / s.runnerUpProbability), 9);
    const sorted = [...s.contributions].sort((a, b) => Math.abs(b.towardsStage) - Math.abs(a.towardsStage));
    expect(s.contributions).toEqual(sorted);
  });

  it('gives peak growth and a gentle flag only when the age is far from the stage', () => {
    const cs6 = syntheticLandmarks(CLEAR_CUT[5]![1]);
    const young = ok(assess(cs6, MM, undefined, { ageYears: 8, sex: 'F' })).staging;
    expect(young.peakGrowth.past).toBeGreaterThan(0.9);
    expect(young.peakGrowth.text).toMatch(
      /^Peak mandibular growth: still ahead \d+%, within about a year \d+%, past \d+%\.$/,
    );
    expect(young.age?.flag).toMatch(/^At 8 y 0 m, CS6 is early \(typical for girls: 13 or older years\)/);
    expect(ok(assess(cs6, MM, undefined, { ageYears: 15, sex: 'F' })).staging.age).toMatchObject({
      ageYears: 15,
      flag: null,
    });
    expect(ok(assess(cs6, MM)).staging.age).toBeNull();
    const cs1 = ok(assess(syntheticLandmarks(CLEAR_CUT[0]![1]), MM, undefined, { ageYears: 17, sex: 'M' })).staging;
    expect(cs1.age?.flag).toContain('is late');
    expect(cs1.peakGrowth.ahead).toBeGreaterThan(cs1.peakGrowth.past);
  });

  it('keeps errors as errors: no probabilities for missing, coincident or inside-out points', () => {
    const good = syntheticLandmarks(CLEAR_CUT[3]![1]);
    const swapped: LandmarkSet = { ...good, C3lp: good.C3la!, C3la: good.C3lp! };
    for (const [set, code] of [
      [{ ...good, C3m: undefined }, 'missing-landmark'],
      [{ ...good, C4la: good.C4lp! }, 'coincident-points'],
      [swapped, 'inside-out'],
    ] as const) {
      const a = assess(set as LandmarkSet, MM, undefined, { landmarkErrorMm: ALL_MODEL });
      expect(a.ok).toBe(false);
      expect(!a.ok && a.error.code).toBe(code);
      expect('staging' in a).toBe(false);
    }
  });

  it("computes the same features from measure()'s definitions", () => {
    const set = syntheticLandmarks({ ...CLEAR_CUT[2]![1], rotationDeg: 20, facing: 'left' });
    const m = measure(set, MM);
    if (!m.ok) throw new Error(m.error.message);
    const x = computeStagingFeatures(physicalCoordinates(set, MM), -1, new Float64Array(FEATURE_COUNT));
    const v = m.value;
    expect(x[0]).toBeCloseTo(v.C2.concavity.share, 12);
    expect(x[1]).toBeCloseTo(v.C3.concavity.share, 12);
    expect(x[2]).toBeCloseTo(v.C4.concavity.share, 12);
    expect(x[3]).toBeCloseTo(Math.log(v.C3.body.heightRatio), 12);
    expect(x[4]).toBeCloseTo(Math.log(v.C3.body.ratio), 12);
    expect(x[5]).toBeCloseTo(Math.log(v.C3.body.inferiorWidth / v.C3.body.anteriorHeight), 12);
    expect(x[6]).toBeCloseTo(Math.log(v.C3.body.widthRatio), 12);
    expect(x[8]).toBeCloseTo(Math.log(v.C4.body.ratio), 12);
  });

  it('refuses a malformed parameter file with a specific message', () => {
    const good = JSON.parse(JSON.stringify(STAGE_MODEL)) as Record<string, unknown>;
    expect(() => parseStagingParams({ ...good, schema: 'x' })).toThrow(/schema is "x"/);
    expect(() => parseStagingParams({ ...good, features: ['C2.concavity'] })).toThrow(/features must be exactly/);
    expect(() => parseStagingParams({ ...good, weights: [[1]] })).toThrow(/weights must be 6 rows/);
    expect(() => parseStagingParams({ ...good, temperature: 0 })).toThrow(/temperature/);
    expect(() => parseStagingParams({ ...good, uncertainty: { ...STAGE_MODEL.uncertainty, samples: 3 } })).toThrow(
      /even number of samples/,
    );
    expect(parseStagingParams(good)).toEqual(STAGE_MODEL);
  });
});

describe('probabilistic agreement figures', () => {
  it('quadratic-weighted kappa is 1 for perfect agreement, 0 for chance, negative when reversed', () => {
    expect(quadraticWeightedKappa([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5])).toBeCloseTo(1, 12);
    expect(quadraticWeightedKappa([0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0])).toBeCloseTo(-1, 12);
  });

  it('counts exact, within one, top-2, ECE and log-loss by their definitions', () => {
    const p = (...v: number[]) => Float64Array.from(v);
    const a = probabilisticAgreement(
      [
        p(0.9, 0.1, 0, 0, 0, 0), // truth 0: right, confidence 0.9
        p(0.1, 0.6, 0.3, 0, 0, 0), // truth 2: one off, in top-2
        p(0, 0, 0, 0.55, 0.45, 0), // truth 5: two off, not in top-2
      ],
      [0, 2, 5],
    );
    expect(a.exact).toBeCloseTo(1 / 3, 12);
    expect(a.withinOne).toBeCloseTo(2 / 3, 12);
    expect(a.top2).toBeCloseTo(2 / 3, 12);
    // bins: 0.9 (1 of 1 right), 0.6 (0 right), 0.55 (0 right) -> (|1-0.9| + |0-0.6| + |0-0.55|) / 3
    expect(a.ece).toBeCloseTo((0.1 + 0.6 + 0.55) / 3, 12);
    expect(a.logLoss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.3) + Math.log(1e-12)) / 3, 9);
    expect(a.confusion[5]![3]).toBe(1);
  });
});
