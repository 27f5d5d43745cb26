/** Accuracy measures for landmark detection and staging: radial error, success detection rate, stage agreement. */
import type { PixelSpacingMm } from '../geometry/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../landmarks/index';
import { CVM_STAGES, type Assessment, type CvmStage, type StageResult } from '../cvm/index';

export interface RadialError {
  readonly name: LandmarkName;
  /** Euclidean distance between prediction and truth in image pixels. */
  readonly px: number;
  /** The same in mm (honouring non-square pixels); null when the spacing is unknown. */
  readonly mm: number | null;
}

export interface RadialErrors {
  /** One entry per landmark present and finite in both sets, in canonical order. */
  readonly errors: readonly RadialError[];
  /** In the truth but absent or not finite in the prediction: a detector failure, not something to average over. */
  readonly missingInPrediction: readonly LandmarkName[];
  /** Absent or not finite in the truth: cannot be scored. */
  readonly missingInTruth: readonly LandmarkName[];
}

const finite = (p: { x: number; y: number } | undefined): p is { x: number; y: number } =>
  p !== undefined && Number.isFinite(p.x) && Number.isFinite(p.y);

/** Radial error of each landmark, skipping the names in `skip` (e.g. those filled from a prediction). */
export function radialErrors(
  pred: LandmarkSet,
  truth: LandmarkSet,
  spacing: PixelSpacingMm | null,
  skip: readonly LandmarkName[] = [],
): RadialErrors {
  const errors: RadialError[] = [];
  const missingInPrediction: LandmarkName[] = [];
  const missingInTruth: LandmarkName[] = [];
  for (const name of LANDMARK_NAMES) {
    if (skip.includes(name)) continue;
    const t = truth[name];
    const p = pred[name];
    if (!finite(t)) {
      missingInTruth.push(name);
      continue;
    }
    if (!finite(p)) {
      missingInPrediction.push(name);
      continue;
    }
    const dx = p.x - t.x;
    const dy = p.y - t.y;
    errors.push({
      name,
      px: Math.hypot(dx, dy),
      mm: spacing === null ? null : Math.hypot(dx * spacing.colMm, dy * spacing.rowMm),
    });
  }
  return { errors, missingInPrediction, missingInTruth };
}

/** Arithmetic mean; NaN for no values. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Median (mean of the middle two for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Share of errors within `radiusMm` (inclusive), 0 to 1: the SDR of the ISBI challenges. NaN for no errors. */
export function successDetectionRate(errorsMm: readonly number[], radiusMm: number): number {
  if (errorsMm.length === 0) return Number.NaN;
  return errorsMm.filter((e) => e <= radiusMm).length / errorsMm.length;
}

/** What a staging gave, reduced to one comparable value. */
export type StageOutcome = CvmStage | 'no-fit' | 'error';
export const STAGE_OUTCOMES: readonly StageOutcome[] = [...CVM_STAGES, 'no-fit', 'error'];

/** The stage of a result or assessment; a borderline result counts as the stage found. */
export function stageOutcome(x: Assessment | StageResult): StageOutcome {
  const result = 'ok' in x ? (x.ok ? x.result : null) : x;
  if (result === null) return 'error';
  return result.kind === 'stage' ? result.stage : 'no-fit';
}

/** Whether a prediction agrees with a true stage, counting a borderline result as agreeing with either candidate. */
export function agreesAllowingBorderline(predicted: StageResult, truth: CvmStage): boolean {
  if (predicted.kind !== 'stage') return false;
  return predicted.stage === truth || (predicted.borderline !== null && predicted.borderline.candidates.includes(truth));
}

export interface StageAgreement {
  readonly total: number;
  /** Pairs with the same outcome (no-fit agrees with no-fit). */
  readonly exact: number;
  readonly exactRate: number;
  /** Pairs that are both stages at most one stage apart. */
  readonly withinOne: number;
  readonly withinOneRate: number;
  /** confusion[truth][predicted] = count. */
  readonly confusion: Readonly<Record<StageOutcome, Readonly<Record<StageOutcome, number>>>>;
}

export function stageAgreement(pairs: readonly { readonly predicted: StageOutcome; readonly truth: StageOutcome }[]): StageAgreement {
  const confusion = Object.fromEntries(
    STAGE_OUTCOMES.map((t) => [t, Object.fromEntries(STAGE_OUTCOMES.map((p) => [p, 0]))]),
  ) as Record<StageOutcome, Record<StageOutcome, number>>;
  let exact = 0;
  let withinOne = 0;
  for (const { predicted, truth } of pairs) {
    confusion[truth][predicted]++;
    if (predicted === truth) exact++;
    const a = CVM_STAGES.indexOf(predicted as CvmStage);
    const b = CVM_STAGES.indexOf(truth as CvmStage);
    if (a >= 0 && b >= 0 && Math.abs(a - b) <= 1) withinOne++;
  }
  const total = pairs.length;
  return {
    total,
    exact,
    exactRate: total === 0 ? Number.NaN : exact / total,
    withinOne,
    withinOneRate: total === 0 ? Number.NaN : withinOne / total,
    confusion,
  };
}
export { probabilisticAgreement, quadraticWeightedKappa, type ProbabilisticAgreement } from './probabilistic';
