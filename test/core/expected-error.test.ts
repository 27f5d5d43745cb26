import { describe, expect, it } from 'vitest';
import { imagePoint } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../../core/landmarks/index';
import { expectedErrorSentences, summariseExpectedErrors } from '../../core/cvm/index';
import { syntheticPoints } from '../../main/cli/bench/synthetic';

const ai: LandmarkSet = Object.fromEntries(
  Object.entries(syntheticPoints('CS4')).map(([n, p]) => [n, imagePoint(p[0], p[1])]),
);
// 0.40, 0.45, ... 1.00 mm in landmark order: C4m (the last) is the largest.
const mm = Object.fromEntries(LANDMARK_NAMES.map((n, i) => [n, 0.4 + 0.05 * i])) as Record<LandmarkName, number>;

describe("the report's expected error of the model's landmarks", () => {
  it('untouched landmarks: median, largest and those at or above the flag threshold', () => {
    const s = summariseExpectedErrors(ai, ai, mm, 0.9);
    expect(s.points).toHaveLength(13);
    expect(s.byPerson).toEqual([]);
    expect(s.medianMm).toBeCloseTo(0.7, 10);
    expect(s.largest?.name).toBe(LANDMARK_NAMES[12]);
    expect(s.points.filter((p) => p.flagged).map((p) => p.name)).toEqual(LANDMARK_NAMES.slice(10));
    const text = expectedErrorSentences(s);
    expect(text[0]).toBe(
      `Expected error of the model's 13 landmarks (cross-validated): median ±0.7 mm, ` +
        `largest ±1.0 mm (${LANDMARK_NAMES[12]}).`,
    );
    expect(text[1]).toMatch(/^To check \(expected 0\.90 mm or more off\): /);
    expect(text[1]).toContain(`${LANDMARK_NAMES[10]} ±0.9 mm`);
    expect(text).toHaveLength(2);
  });

  it('a moved point loses the model’s expected error and is named as a person’s', () => {
    const moved = LANDMARK_NAMES[12];
    const now = { ...ai, [moved]: imagePoint(ai[moved]!.x + 3, ai[moved]!.y) };
    const s = summariseExpectedErrors(now, ai, mm, 0.9);
    expect(s.points.map((p) => p.name)).not.toContain(moved);
    expect(s.byPerson).toEqual([moved]);
    expect(s.largest?.name).toBe(LANDMARK_NAMES[11]);
    expect(expectedErrorSentences(s)).toContain(`Placed or moved by a person: ${moved}.`);
  });

  it('nothing to flag says so; a run without calibration or without any model run says nothing of the model', () => {
    expect(expectedErrorSentences(summariseExpectedErrors(ai, ai, mm, 2))[1]).toBe(
      'None expected 2.00 mm or more off.',
    );
    expect(expectedErrorSentences(summariseExpectedErrors(ai, ai, {}, 0.9))).toEqual([]);
    const byHand = summariseExpectedErrors(ai, null, mm, 0.9);
    expect(byHand.modelRun).toBe(false);
    expect(byHand.byPerson).toHaveLength(13);
    expect(expectedErrorSentences(byHand)).toEqual([]);
  });
});
