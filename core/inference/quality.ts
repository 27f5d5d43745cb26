/**
 * Quality gate: says plainly when the landmarks cannot be trusted (C2-C4 not visible, cut off, low
 * confidence), so a stage is never presented as certain when it is not. How far stage 2 moved a point from
 * stage 1 is not a flag: correcting the coarse stage-1 positions is what stage 2 is for (stage 1 sees the
 * whole image at about 2 mm per input pixel).
 */
import type { LandmarkName } from '../landmarks/index';

export interface QualityThresholds {
  /** A landmark whose heatmap peak is lower than this is unreliable. */
  readonly minConfidence: number;
  /** Landmarks closer than this to the image border are treated as cut off. */
  readonly edgeMarginPx: number;
  /**
   * With this many unreliable landmarks or more (low peak, cut off, at the region's edge), no stage is given at all.
   * A high expected error alone does not count: this many flagged landmarks make the image 'check' (as one
   * expected from imageCheckMm up does).
   */
  readonly maxUnreliable: number;
  /**
   * With a calibrated model (decoding.json): landmarks expected to be this many mm off or more are flagged
   * ('check'), and the raw peak (minConfidence) is not used.
   */
  readonly flagMm?: number;
  /**
   * With a calibrated model: the image verdict is 'uncertain' ('check') because of expected errors only when
   * a landmark is expected to be this many mm off or more; flagged landmarks below it stay marked
   * (landmarkIssues) without alarming the whole image. Absent: any flagged landmark makes the image 'check'.
   */
  readonly imageCheckMm?: number;
}

export const DEFAULT_QUALITY_THRESHOLDS: QualityThresholds = {
  minConfidence: 0.3,
  edgeMarginPx: 2,
  maxUnreliable: 4,
};

export type LandmarkIssue = 'low-confidence' | 'high-expected-error' | 'outside-image' | 'at-region-edge';

export interface LandmarkQualityInput {
  readonly name: LandmarkName;
  readonly x: number;
  readonly y: number;
  readonly confidence: number;
  /** True when the stage-2 peak lies on the border of its heatmap (the true point may be outside). */
  readonly atRegionEdge: boolean;
  /** Calibrated expected radial error in mm; null/absent for a model without decoding.json. */
  readonly expectedErrorMm?: number | null;
}

/** The shape-model check of the chosen configuration (decoding.json). */
export interface AnatomyInput {
  readonly shapeDistance: number;
  readonly limit: number;
  readonly plausible: boolean;
  /** Landmarks for which a weaker heatmap peak was chosen because the strongest made an implausible shape. */
  readonly reselected: readonly LandmarkName[];
}

export type QualityVerdict = 'ok' | 'uncertain' | 'failed';

export interface QualityReport {
  readonly verdict: QualityVerdict;
  /** Plain sentences for the user, most serious first; empty when ok. */
  readonly problems: readonly string[];
  readonly landmarkIssues: Readonly<Partial<Record<LandmarkName, readonly LandmarkIssue[]>>>;
}

/** Mean y of groups that must run from top to bottom: C2 lower border, C3 upper, C3 lower, C4 upper, C4 lower. */
const VERTICAL_ORDER: readonly (readonly LandmarkName[])[] = [
  ['C2p', 'C2m', 'C2a'],
  ['C3up', 'C3ua'],
  ['C3lp', 'C3m', 'C3la'],
  ['C4up', 'C4ua'],
  ['C4lp', 'C4m', 'C4la'],
];

export function landmarkIssues(
  p: LandmarkQualityInput,
  width: number,
  height: number,
  t: QualityThresholds,
): LandmarkIssue[] {
  const issues: LandmarkIssue[] = [];
  const m = t.edgeMarginPx;
  if (!(p.x >= m && p.y >= m && p.x <= width - 1 - m && p.y <= height - 1 - m)) issues.push('outside-image');
  if (t.flagMm !== undefined && p.expectedErrorMm !== undefined && p.expectedErrorMm !== null) {
    if (!(p.expectedErrorMm < t.flagMm)) issues.push('high-expected-error');
  } else if (!(p.confidence >= t.minConfidence)) {
    issues.push('low-confidence');
  }
  if (p.atRegionEdge) issues.push('at-region-edge');
  return issues;
}

function inVerticalOrder(points: readonly LandmarkQualityInput[]): boolean {
  const meanY = VERTICAL_ORDER.map((group) => {
    const ys = points.filter((p) => group.includes(p.name)).map((p) => p.y);
    return ys.length > 0 ? ys.reduce((a, b) => a + b, 0) / ys.length : Number.NaN;
  });
  return meanY.every((y, i) => {
    const above = meanY[i - 1]; // undefined for the first group
    return Number.isFinite(y) && (above === undefined || y > above);
  });
}

export function assessQuality(
  points: readonly LandmarkQualityInput[],
  width: number,
  height: number,
  t: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
  anatomy: AnatomyInput | null = null,
): QualityReport {
  const issues: Partial<Record<LandmarkName, LandmarkIssue[]>> = {};
  for (const p of points) {
    const found = landmarkIssues(p, width, height, t);
    if (found.length > 0) issues[p.name] = found;
  }
  const namesWith = (issue: LandmarkIssue): LandmarkName[] =>
    points.filter((p) => issues[p.name]?.includes(issue)).map((p) => p.name);
  const problems: string[] = [];
  const ordered = inVerticalOrder(points);
  if (!ordered) {
    problems.push('C2, C3 and C4 were not found in their anatomical order: the vertebrae may not be in the image.');
  }
  if (anatomy && !anatomy.plausible) {
    problems.push(
      `C2-C4 are not found as a plausible vertebral column (shape distance ${anatomy.shapeDistance.toFixed(0)}, plausible up to ${anatomy.limit.toFixed(0)}): ` +
        'points may sit on C1 or C5, or the vertebrae are hidden or cut off. Place the landmarks by hand.',
    );
  }
  // Beyond the image (pixel centres: it covers -0.5..w-0.5) a point is the networks' guess at a vertebra the film
  // cut off: no stage from it. Within the edge margin it may be real, and is only checked.
  const beyond = points
    .filter((p) => !(p.x >= -0.5 && p.y >= -0.5 && p.x <= width - 0.5 && p.y <= height - 0.5))
    .map((p) => p.name);
  const outside = namesWith('outside-image').filter((n) => !beyond.includes(n));
  if (beyond.length > 0)
    problems.push(
      `C2-C4 are cut off by the image border: ${beyond.join(', ')} would lie outside the image, so no stage can be ` +
        'measured. Use an image that shows C2-C4 whole.',
    );
  if (outside.length > 0) problems.push(`C2-C4 look cut off by the image border (${outside.join(', ')}).`);
  const expected = namesWith('high-expected-error');
  const checkMm = t.imageCheckMm;
  // Many flagged landmarks say "check" too, even when none reaches the image threshold.
  const imageCheck =
    checkMm === undefined ||
    expected.length >= t.maxUnreliable ||
    points.some((p) => typeof p.expectedErrorMm === 'number' && !(p.expectedErrorMm < checkMm));
  if (expected.length > 0 && imageCheck) {
    const mm = (n: LandmarkName): string => {
      const e = points.find((p) => p.name === n)?.expectedErrorMm;
      return typeof e === 'number' ? ` ~${e.toFixed(1)} mm` : '';
    };
    problems.push(
      `Check ${expected.map((n) => `${n}${mm(n)}`).join(', ')}: expected to be ${t.flagMm?.toFixed(1)} mm off or more.`,
    );
  }
  const low = namesWith('low-confidence');
  if (low.length > 0) problems.push(`Low confidence for ${low.join(', ')}.`);
  const edge = namesWith('at-region-edge');
  if (edge.length > 0) problems.push(`${edge.join(', ')} lie at the edge of the refined region and may be outside it.`);
  // Expected-error flags say "check", never "failed": they rank how far a point is likely off (about 1-1.5 mm where
  // flagged), and a configuration that is really wrong is the anatomy check's to refuse. Counted here, four of them
  // failed images whose points all lay within 2 mm (5 of 12 failures over 27 variant sets of the 54 CV images), and
  // those below imageCheckMm with no reason given at all.
  const unreliable = Object.values(issues).filter((found) => found.some((i) => i !== 'high-expected-error')).length;
  const verdict: QualityVerdict =
    !ordered || unreliable >= t.maxUnreliable || (anatomy !== null && !anatomy.plausible) || beyond.length > 0
      ? 'failed'
      : problems.length > 0
        ? 'uncertain'
        : 'ok';
  return { verdict, problems, landmarkIssues: issues };
}
