/**
 * Agreement of probabilistic stage predictions with reference stages (e.g. clinicians'): exact, within one stage,
 * quadratic-weighted kappa, top-2, expected calibration error (10 equal-width bins of the top probability) and
 * log-loss. Stages are indices 0..5 (CS1..CS6).
 */

/** The headline figures: of one evaluation, or their means over repeated ones (core/cvm/fit.ts). */
export interface AgreementFigures {
  readonly exact: number;
  readonly withinOne: number;
  readonly quadraticKappa: number;
  readonly top2: number;
  /** Expected calibration error, 10 bins of the most probable stage's probability. */
  readonly ece: number;
  /** Mean negative log-probability of the reference stage. */
  readonly logLoss: number;
}

export interface ProbabilisticAgreement extends AgreementFigures {
  readonly total: number;
  /** confusion[reference][predicted], stage order. */
  readonly confusion: readonly (readonly number[])[];
  /** Reliability per bin: count, mean confidence, accuracy (empty bins omitted). */
  readonly reliability: readonly {
    readonly from: number;
    readonly to: number;
    readonly count: number;
    readonly confidence: number;
    readonly accuracy: number;
  }[];
}

/** Throws unless every rating is a category 0..k-1: the counting below indexes k x k tables by them. */
function checkCategories(ratings: readonly number[], k: number, what: string): void {
  const bad = ratings.find((r) => !Number.isInteger(r) || r < 0 || r >= k);
  if (bad !== undefined) throw new RangeError(`${what}: ${bad} is not a category 0..${k - 1}`);
}

// The counting kernels below index tables of k (or `bins`) entries by categories checked with checkCategories, by
// loop counters below the arrays' lengths, and probability vectors checked to hold k values.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- indices checked or bounded as said above */
const argmax = (p: ArrayLike<number>): number => {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
  return best;
};

/** Quadratic-weighted Cohen's kappa between two ratings on `k` ordered categories. */
export function quadraticWeightedKappa(a: readonly number[], b: readonly number[], k = 6): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`${n} first ratings for ${b.length} second ratings`);
  checkCategories(a, k, 'first rating');
  checkCategories(b, k, 'second rating');
  const observed = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const rowSum = new Array<number>(k).fill(0);
  const colSum = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    observed[a[i]!]![b[i]!]!++;
    rowSum[a[i]!]!++;
    colSum[b[i]!]!++;
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = ((i - j) / (k - 1)) ** 2;
      num += w * observed[i]![j]!;
      den += (w * rowSum[i]! * colSum[j]!) / n;
    }
  }
  return den === 0 ? Number.NaN : 1 - num / den;
}

export function probabilisticAgreement(
  probabilities: readonly ArrayLike<number>[],
  reference: readonly number[],
  bins = 10,
): ProbabilisticAgreement {
  const n = probabilities.length;
  if (n !== reference.length) throw new Error(`${n} predictions for ${reference.length} reference stages`);
  const k = 6;
  checkCategories(reference, k, 'reference stage');
  const short = probabilities.findIndex((p) => p.length !== k);
  if (short >= 0)
    throw new RangeError(`prediction ${short} has ${probabilities[short]?.length} probabilities, not ${k}`);
  const predicted = probabilities.map(argmax);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let exact = 0,
    withinOne = 0,
    top2 = 0,
    logLoss = 0;
  const binCount = new Array<number>(bins).fill(0);
  const binConfidence = new Array<number>(bins).fill(0);
  const binCorrect = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i]!;
    const r = reference[i]!;
    const q = predicted[i]!;
    confusion[r]![q]!++;
    if (q === r) exact++;
    if (Math.abs(q - r) <= 1) withinOne++;
    let higher = 0;
    for (let c = 0; c < k; c++) if (p[c]! > p[r]!) higher++;
    if (higher <= 1) top2++;
    logLoss -= Math.log(Math.max(p[r]!, 1e-12));
    const confidence = p[q]!;
    const bin = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
    binCount[bin]!++;
    binConfidence[bin] = binConfidence[bin]! + confidence;
    if (q === r) binCorrect[bin]!++;
  }
  let ece = 0;
  const reliability: ProbabilisticAgreement['reliability'][number][] = [];
  for (let b = 0; b < bins; b++) {
    if (binCount[b] === 0) continue;
    const confidence = binConfidence[b]! / binCount[b]!;
    const accuracy = binCorrect[b]! / binCount[b]!;
    ece += (binCount[b]! / n) * Math.abs(accuracy - confidence);
    reliability.push({ from: b / bins, to: (b + 1) / bins, count: binCount[b]!, confidence, accuracy });
  }
  return {
    total: n,
    exact: exact / n,
    withinOne: withinOne / n,
    quadraticKappa: quadraticWeightedKappa(reference, predicted, k),
    top2: top2 / n,
    ece,
    logLoss: logLoss / n,
    confusion,
    reliability,
  };
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */
