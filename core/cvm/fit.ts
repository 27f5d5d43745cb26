/**
 * Fitting the staging model (pure and deterministic, so the fit script, `cvm eval` and the tests reproduce the
 * same figures): stratified folds, an L2-regularised multinomial logistic regression by Newton's method, the
 * regularisation strength chosen by inner cross-validation, and a temperature fitted on inner cross-validated
 * probabilities of the same landmark-averaged predictor the app uses.
 */
import type { PixelSpacingMm } from '../geometry/index';
import type { LandmarkSet } from '../landmarks/index';
import { computeStagingFeatures, FEATURE_COUNT, physicalCoordinates, STAGING_FEATURES } from './features';
import { probabilisticAgreement, type AgreementFigures, type ProbabilisticAgreement } from './agreement';
import { measure } from './measure';
import type { StagingError } from './types';
import { el, row } from './vector';
import { meanLowerChord, mulberry32, STAGE_PARAMS_SCHEMA, stageProbabilities, type StagingModelParams } from './model';

/** One training spine: 26 coordinates in square units, its facing and the clinicians' stage (0..5 for CS1..CS6). */
export interface TrainingSpine {
  readonly id: string;
  readonly xy: Float64Array;
  readonly side: number;
  readonly label: number;
}

export interface FitOptions {
  /** Regularisation strengths tried (penalty lambda * sum of squared weights on the summed log-loss). */
  readonly lambdas: readonly number[];
  /** Folds of the inner cross-validation that picks lambda and the temperature. */
  readonly innerFolds: number;
  /** Whether a temperature is fitted on the inner cross-validated probabilities (false: 1). */
  readonly fitTemperature: boolean;
  readonly seed: number;
  /**
   * Extra landmark error (per axis, as a share of the mean lower-border chord) averaged over while fitting the
   * temperature and evaluating. 0: the points are taken as placed by people, like the training points, whose
   * placement error the model has already learned.
   */
  readonly relativeSigma: number;
  /** Stored in the parameters: the landmark error model of the app (see StagingModelParams.uncertainty). */
  readonly uncertainty: StagingModelParams['uncertainty'];
  readonly id: string;
  readonly version: string;
  /** Recorded in the parameters: the data file's name and sha256. */
  readonly training?: StagingModelParams['training'];
}

export const DEFAULT_FIT_OPTIONS: FitOptions = {
  lambdas: [0.03, 0.1, 0.3, 1, 3, 10],
  innerFolds: 5,
  fitTemperature: true,
  seed: 20261202,
  relativeSigma: 0,
  uncertainty: { annotatorSigmaMm: 0.32, defaultModelSigmaMm: 0.5, referenceChordMm: 12.9, samples: 32, seed: 7 },
  id: 'cvm-stage-v1',
  version: '1.0.0',
};

/**
 * Fold index (0..k-1) of each item: each class shuffled by a seeded PRNG and dealt round-robin, continuing across
 * classes.
 */
// Dense numerical kernels (folds, Cholesky solve, Newton steps, standardisation): every index below stays within
// the arrays allocated in the same function (n, p, classes * p, FEATURE_COUNT), so no read can be undefined.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- indices bounded by the sizes allocated here */
export function stratifiedFolds(labels: readonly number[], k: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const folds = new Array<number>(labels.length).fill(-1);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  let next = 0;
  for (const c of classes) {
    const members = labels.map((l, i) => (l === c ? i : -1)).filter((i) => i >= 0);
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    for (const i of members) {
      folds[i] = next % k;
      next++;
    }
  }
  return folds;
}

export function featuresOf(spine: TrainingSpine): Float64Array {
  return computeStagingFeatures(spine.xy, spine.side, new Float64Array(FEATURE_COUNT));
}

/** Solves A x = b for a symmetric positive definite A (n x n, row-major) by Cholesky; A is not modified. */
function solveSpd(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error('Hessian not positive definite');
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
    y[i] = s / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

export interface LinearModel {
  readonly weights: number[][];
  readonly bias: number[];
}

/**
 * Multinomial logistic regression on standardised features by Newton's method with backtracking:
 * minimises sum_i -log p(y_i | z_i) + lambda * |W|^2 (+ 1e-6 * |b|^2, which only fixes the softmax's free shift).
 */
export function fitMultinomial(
  Z: readonly Float64Array[],
  y: readonly number[],
  lambda: number,
  classes = 6,
): LinearModel {
  const p = FEATURE_COUNT + 1;
  const D = classes * p;
  const theta = new Float64Array(D);
  const probs = new Float64Array(classes);
  const row = new Float64Array(p);
  const objective = (t: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < Z.length; i++) {
      const z = Z[i]!;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        let s = t[c * p]!;
        for (let j = 1; j < p; j++) s += t[c * p + j]! * z[j - 1]!;
        probs[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(probs[c]! - max);
      loss += -(probs[y[i]!]! - max - Math.log(sum));
    }
    for (let c = 0; c < classes; c++) {
      loss += 1e-6 * t[c * p]! ** 2;
      for (let j = 1; j < p; j++) loss += lambda * t[c * p + j]! ** 2;
    }
    return loss;
  };
  let current = objective(theta);
  for (let iter = 0; iter < 100; iter++) {
    const g = new Float64Array(D);
    const H = new Float64Array(D * D);
    for (let i = 0; i < Z.length; i++) {
      const z = Z[i]!;
      row[0] = 1;
      for (let j = 1; j < p; j++) row[j] = z[j - 1]!;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        let s = 0;
        for (let j = 0; j < p; j++) s += theta[c * p + j]! * row[j]!;
        probs[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) {
        probs[c] = Math.exp(probs[c]! - max);
        sum += probs[c]!;
      }
      for (let c = 0; c < classes; c++) probs[c] = probs[c]! / sum;
      for (let c = 0; c < classes; c++) {
        const r = probs[c]! - (y[i] === c ? 1 : 0);
        for (let j = 0; j < p; j++) g[c * p + j] = g[c * p + j]! + r * row[j]!;
        for (let d = c; d < classes; d++) {
          const w = probs[c]! * ((c === d ? 1 : 0) - probs[d]!);
          if (w === 0) continue;
          for (let j = 0; j < p; j++) {
            const wj = w * row[j]!;
            const base = (c * p + j) * D + d * p;
            for (let k = 0; k < p; k++) H[base + k] = H[base + k]! + wj * row[k]!;
          }
        }
      }
    }
    // Mirror the upper class blocks and add the penalty.
    for (let c = 0; c < classes; c++) {
      for (let d = c + 1; d < classes; d++) {
        for (let j = 0; j < p; j++)
          for (let k = 0; k < p; k++) H[(d * p + k) * D + c * p + j] = H[(c * p + j) * D + d * p + k]!;
      }
      for (let j = 0; j < p; j++) {
        const reg = j === 0 ? 1e-6 : lambda;
        g[c * p + j] = g[c * p + j]! + 2 * reg * theta[c * p + j]!;
        H[(c * p + j) * D + c * p + j] = H[(c * p + j) * D + c * p + j]! + 2 * reg;
      }
    }
    const step = solveSpd(H, g, D);
    let t = 1;
    let accepted = false;
    const trial = new Float64Array(D);
    for (let halving = 0; halving < 30; halving++) {
      for (let j = 0; j < D; j++) trial[j] = theta[j]! - t * step[j]!;
      const value = objective(trial);
      if (value <= current) {
        theta.set(trial);
        const decrease = current - value;
        current = value;
        accepted = true;
        if (decrease < 1e-10 * Math.max(1, Math.abs(value))) iter = Infinity;
        break;
      }
      t /= 2;
    }
    if (!accepted) break;
  }
  const weights: number[][] = [];
  const bias: number[] = [];
  for (let c = 0; c < classes; c++) {
    bias.push(theta[c * p]!);
    weights.push(Array.from(theta.subarray(c * p + 1, c * p + p)));
  }
  return { weights, bias };
}

/** Mean and (population) standard deviation of each feature. */
export function standardisation(X: readonly Float64Array[]): { mean: number[]; scale: number[] } {
  const mean = new Array<number>(FEATURE_COUNT).fill(0);
  const scale = new Array<number>(FEATURE_COUNT).fill(0);
  for (const x of X) for (let j = 0; j < FEATURE_COUNT; j++) mean[j] = mean[j]! + x[j]! / X.length;
  for (const x of X) for (let j = 0; j < FEATURE_COUNT; j++) scale[j] = scale[j]! + (x[j]! - mean[j]!) ** 2 / X.length;
  return { mean, scale: scale.map((v) => Math.sqrt(v) || 1) };
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */

function paramsOf(
  linear: LinearModel,
  norm: { mean: number[]; scale: number[] },
  temperature: number,
  options: FitOptions,
): StagingModelParams {
  return {
    schema: STAGE_PARAMS_SCHEMA,
    id: options.id,
    version: options.version,
    features: STAGING_FEATURES.map((f) => f.id),
    mean: norm.mean,
    scale: norm.scale,
    weights: linear.weights,
    bias: linear.bias,
    temperature,
    uncertainty: options.uncertainty,
    ...(options.training ? { training: options.training } : {}),
  };
}

/** Fits the linear part (standardisation + weights) on some spines; temperature 1. */
function fitLinear(spines: readonly TrainingSpine[], lambda: number, options: FitOptions): StagingModelParams {
  const X = spines.map(featuresOf);
  const norm = standardisation(X);
  const Z = X.map((x) => Float64Array.from(x, (v, j) => (v - el(norm.mean, j, 'mean')) / el(norm.scale, j, 'scale')));
  return paramsOf(
    fitMultinomial(
      Z,
      spines.map((s) => s.label),
      lambda,
    ),
    norm,
    1,
    options,
  );
}

/**
 * The app's predictor for a training spine, averaged over landmark samples with `relativeSigma` of the mean lower chord
 * (0: none).
 */
export function predictSpine(
  params: StagingModelParams,
  spine: TrainingSpine,
  temperature = params.temperature,
  relativeSigma = 0,
): Float64Array {
  const s = relativeSigma * meanLowerChord(spine.xy);
  const sigma = new Float64Array(13).fill(s);
  return Float64Array.from(stageProbabilities(params, spine.xy, spine.side, sigma, new Float64Array(6), temperature));
}

const logLoss = (probs: readonly Float64Array[], labels: readonly number[]): number =>
  probs.reduce((sum, p, i) => sum - Math.log(Math.max(el(p, el(labels, i, 'labels'), 'probabilities'), 1e-12)), 0) /
  probs.length;

/** Golden-section search of the temperature minimising the log-loss (log T in [log 0.25, log 4]). */
function fitTemperature(evaluate: (t: number) => number): number {
  let a = Math.log(0.25),
    b = Math.log(4);
  const r = (Math.sqrt(5) - 1) / 2;
  let c = b - r * (b - a),
    d = a + r * (b - a);
  let fc = evaluate(Math.exp(c)),
    fd = evaluate(Math.exp(d));
  for (let i = 0; i < 40; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - r * (b - a);
      fc = evaluate(Math.exp(c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + r * (b - a);
      fd = evaluate(Math.exp(d));
    }
  }
  return Math.exp((a + b) / 2);
}

export interface FitReport {
  readonly params: StagingModelParams;
  readonly lambda: number;
  /** Inner cross-validated log-loss of each lambda (temperature 1, landmark-averaged). */
  readonly lambdaLogLoss: readonly { lambda: number; logLoss: number }[];
  readonly temperature: number;
}

/**
 * The whole recipe on some spines: inner stratified cross-validation picks lambda (lowest log-loss of the averaged
 * predictor) and then the temperature (on the inner out-of-fold predictions at that lambda); the final weights are
 * fitted on all the given spines.
 */
export function fitStagingModel(
  spines: readonly TrainingSpine[],
  options: FitOptions = DEFAULT_FIT_OPTIONS,
): FitReport {
  const labels = spines.map((s) => s.label);
  const folds = stratifiedFolds(labels, options.innerFolds, options.seed + 1);
  const oofByLambda = options.lambdas.map((lambda) => {
    const oof = new Array<Float64Array>(spines.length);
    const models: StagingModelParams[] = [];
    for (let f = 0; f < options.innerFolds; f++) {
      const train = spines.filter((_, i) => folds[i] !== f);
      const params = fitLinear(train, lambda, options);
      models.push(params);
      spines.forEach((s, i) => {
        if (folds[i] === f) oof[i] = predictSpine(params, s, 1, options.relativeSigma);
      });
    }
    return { lambda, logLoss: logLoss(oof, labels), models };
  });
  const best = oofByLambda.reduce((a, b) => (b.logLoss < a.logLoss ? b : a));
  const temperature = !options.fitTemperature
    ? 1
    : fitTemperature((t) => {
        const probs = spines.map((s, i) =>
          predictSpine(row(best.models, el(folds, i, 'folds'), 'fold models'), s, t, options.relativeSigma),
        );
        return logLoss(probs, labels);
      });
  const final = fitLinear(spines, best.lambda, options);
  return {
    params: { ...final, temperature },
    lambda: best.lambda,
    lambdaLogLoss: oofByLambda.map(({ lambda, logLoss: l }) => ({ lambda, logLoss: l })),
    temperature,
  };
}

export interface CrossValidation {
  /** Out-of-fold P(CS1..CS6) of each spine, in input order. */
  readonly probabilities: readonly Float64Array[];
  readonly folds: readonly number[];
  readonly perFold: readonly { lambda: number; temperature: number }[];
}

/** Outer stratified k-fold cross-validation of the whole recipe (nested: each training fold runs its own inner CV). */
export function crossValidate(
  spines: readonly TrainingSpine[],
  k = 5,
  options: FitOptions = DEFAULT_FIT_OPTIONS,
): CrossValidation {
  const folds = stratifiedFolds(
    spines.map((s) => s.label),
    k,
    options.seed,
  );
  const probabilities = new Array<Float64Array>(spines.length);
  const perFold: { lambda: number; temperature: number }[] = [];
  for (let f = 0; f < k; f++) {
    const fit = fitStagingModel(
      spines.filter((_, i) => folds[i] !== f),
      options,
    );
    perFold.push({ lambda: fit.lambda, temperature: fit.temperature });
    spines.forEach((s, i) => {
      if (folds[i] === f) probabilities[i] = predictSpine(fit.params, s, fit.params.temperature, options.relativeSigma);
    });
  }
  return { probabilities, folds, perFold };
}

/**
 * A training spine from a landmark set: validated by measure() (an error is returned, never a spine with bad
 * geometry), coordinates in mm when the spacing is known, else px.
 */
export function trainingSpine(
  id: string,
  landmarks: LandmarkSet,
  spacing: PixelSpacingMm | null,
  label: number,
): TrainingSpine | StagingError {
  const measured = measure(landmarks, spacing);
  if (!measured.ok) return measured.error;
  return { id, xy: physicalCoordinates(landmarks, spacing), side: measured.value.facing === 'right' ? 1 : -1, label };
}

/** What a cross-validation was run on, and its figures over all spines. */
interface SpineCoverage {
  readonly protocol: string;
  readonly spines: number;
  /** Spines whose landmarks could not be measured (an error, not a stage): counted as disagreeing in `*_allSpines`. */
  readonly unmeasurable: number;
  /** Share of all spines given a stage. */
  readonly staged: number;
  /** exact and within-one over all spines, the unmeasurable counted as wrong. */
  readonly exact_allSpines: number;
  readonly withinOne_allSpines: number;
}

export interface CrossValidatedFigures extends SpineCoverage, AgreementFigures {
  readonly confusion: readonly (readonly number[])[];
  readonly reliability: ProbabilisticAgreement['reliability'];
  readonly perFold: readonly { lambda: number; temperature: number }[];
}

/** The cross-validated figures of the recipe (rounded to 4 decimals, as stored in the manifest). */
export function crossValidatedFigures(
  spines: readonly TrainingSpine[],
  unmeasurable: number,
  k = 5,
  options: FitOptions = DEFAULT_FIT_OPTIONS,
): CrossValidatedFigures {
  const cv = crossValidate(spines, k, options);
  const a = probabilisticAgreement(
    cv.probabilities,
    spines.map((s) => s.label),
  );
  const r = (v: number): number => Math.round(v * 1e4) / 1e4;
  const all = spines.length + unmeasurable;
  return {
    protocol:
      `stratified ${k}-fold cross-validation (seed ${options.seed}), nested: lambda and temperature chosen by inner ${options.innerFolds}-fold CV in each training fold; ` +
      (options.relativeSigma > 0
        ? `landmarks averaged over a per-axis error of ${options.relativeSigma} of the mean lower chord`
        : 'points as placed by the clinicians (no extra landmark error)'),
    spines: all,
    unmeasurable,
    staged: r(spines.length / all),
    exact: r(a.exact),
    withinOne: r(a.withinOne),
    quadraticKappa: r(a.quadraticKappa),
    top2: r(a.top2),
    ece: r(a.ece),
    logLoss: r(a.logLoss),
    exact_allSpines: r((a.exact * spines.length) / all),
    withinOne_allSpines: r((a.withinOne * spines.length) / all),
    confusion: a.confusion,
    reliability: a.reliability.map((b) => ({ ...b, confidence: r(b.confidence), accuracy: r(b.accuracy) })),
    perFold: cv.perFold.map((f) => ({ lambda: f.lambda, temperature: r(f.temperature) })),
  };
}

/** Agreement figures are means over the repetitions (each a full k-fold cross-validation with its own partition). */
export interface RepeatedCrossValidation extends SpineCoverage, AgreementFigures {
  readonly repeats: number;
  /** Lowest and highest of each figure over the repetitions. */
  readonly range: Readonly<Record<keyof AgreementFigures, readonly [number, number]>>;
  readonly perRepeat: readonly CrossValidatedFigures[];
}

/**
 * `repeats` stratified k-fold cross-validations with partitions seeded options.seed, options.seed + 1, ...: the
 * mean is a steadier estimate than any one partition (the ECE of 10 bins over 720 spines moves by about 0.02 from
 * one partition to another).
 */
export function repeatedCrossValidation(
  spines: readonly TrainingSpine[],
  unmeasurable: number,
  k = 5,
  repeats = 5,
  options: FitOptions = DEFAULT_FIT_OPTIONS,
  onRepeat?: (done: number) => void,
): RepeatedCrossValidation {
  const perRepeat: CrossValidatedFigures[] = [];
  for (let r = 0; r < repeats; r++) {
    perRepeat.push(crossValidatedFigures(spines, unmeasurable, k, { ...options, seed: options.seed + r }));
    onRepeat?.(r + 1);
  }
  const keys = [
    'exact',
    'withinOne',
    'quadraticKappa',
    'top2',
    'ece',
    'logLoss',
    'exact_allSpines',
    'withinOne_allSpines',
  ] as const;
  const mean = Object.fromEntries(
    keys.map((key) => [key, Math.round((perRepeat.reduce((s, f) => s + f[key], 0) / repeats) * 1e4) / 1e4]),
  ) as Record<(typeof keys)[number], number>;
  const range = Object.fromEntries(
    (['exact', 'withinOne', 'quadraticKappa', 'top2', 'ece', 'logLoss'] as const).map((key) => [
      key,
      [Math.min(...perRepeat.map((f) => f[key])), Math.max(...perRepeat.map((f) => f[key]))],
    ]),
  ) as unknown as RepeatedCrossValidation['range'];
  return {
    protocol:
      `${repeats} repetitions of stratified ${k}-fold cross-validation (partition seeds ${options.seed}..${options.seed + repeats - 1}), nested: ` +
      `lambda and temperature chosen by inner ${options.innerFolds}-fold CV within each training fold; ` +
      (options.relativeSigma > 0
        ? `landmarks averaged over a per-axis error of ${options.relativeSigma} of the mean lower chord`
        : 'points as placed by the clinicians'),
    repeats,
    spines: row(perRepeat, 0, 'repeats').spines,
    unmeasurable,
    staged: row(perRepeat, 0, 'repeats').staged,
    ...mean,
    range,
    perRepeat,
  };
}
