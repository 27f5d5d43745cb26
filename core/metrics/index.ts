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
  const upper = sorted[mid] ?? Number.NaN;
  const lower = sorted[mid - 1] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : (lower + upper) / 2;
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
  return (
    predicted.stage === truth || (predicted.borderline !== null && predicted.borderline.candidates.includes(truth))
  );
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

export function stageAgreement(
  pairs: readonly { readonly predicted: StageOutcome; readonly truth: StageOutcome }[],
): StageAgreement {
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

/** Ranks (1-based) with ties given their average rank. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(values.length);
  for (let k = 0; k < order.length;) {
    let j = k;
    while (j + 1 < order.length && order[j + 1]?.v === order[k]?.v) j++;
    for (const tied of order.slice(k, j + 1)) out[tied.i] = (k + j) / 2 + 1;
    k = j + 1;
  }
  return out;
}

/** Spearman rank correlation (Pearson correlation of the ranks); NaN for fewer than 2 pairs or no spread. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} vs ${b.length} values`);
  if (a.length < 2) return Number.NaN;
  const ra = ranks(a);
  const rb = ranks(b);
  const ma = mean(ra);
  const mb = mean(rb);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (const [i, x] of ra.entries()) {
    const y = rb[i] ?? Number.NaN; // ra and rb rank arrays of the same length (checked above)
    sab += (x - ma) * (y - mb);
    saa += (x - ma) ** 2;
    sbb += (y - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : Number.NaN;
}

/** The vertebra a C2-C4 landmark lies on. */
export function vertebraOf(name: LandmarkName): 'C2' | 'C3' | 'C4' {
  return name.slice(0, 2) as 'C2' | 'C3' | 'C4';
}

/**
 * Predicted landmarks that sit on another vertebra: more than 2 mm off and either nearer to an annotated
 * landmark of another vertebra than to their own, or more than 5 mm off (e.g. on C1 or C5, not annotated).
 */
export function onWrongVertebra(
  pred: LandmarkSet,
  truth: LandmarkSet,
  spacing: PixelSpacingMm,
  skip: readonly LandmarkName[] = [],
): LandmarkName[] {
  const dist = (a: { x: number; y: number }, b: { x: number; y: number }): number =>
    Math.hypot((a.x - b.x) * spacing.colMm, (a.y - b.y) * spacing.rowMm);
  const out: LandmarkName[] = [];
  for (const name of Object.keys(truth) as LandmarkName[]) {
    const p = pred[name];
    const t = truth[name];
    if (!p || !t || skip.includes(name)) continue;
    const own = dist(p, t);
    if (own <= 2) continue;
    const nearestOther = Math.min(
      ...(Object.entries(truth) as [LandmarkName, { x: number; y: number }][])
        .filter(([n]) => vertebraOf(n) !== vertebraOf(name))
        .map(([, q]) => dist(p, q)),
    );
    if (own > 5 || nearestOther < own) out.push(name);
  }
  return out;
}
export { probabilisticAgreement, quadraticWeightedKappa, type ProbabilisticAgreement } from '../cvm/agreement';
