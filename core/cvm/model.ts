/**
 * The staging model fitted to clinicians: a multinomial logistic regression (L2-regularised, temperature
 * calibrated) on the scale-free features of features.ts, evaluated as an average over deterministic samples of
 * the landmark positions within their expected placement error. Pure and allocation-light: the renderer runs it
 * on every mouse move while a landmark is dragged.
 */
import { LANDMARK_NAMES } from '../landmarks/index';
import { computeStagingFeatures, FEATURE_COUNT, STAGING_FEATURES } from './features';

export const STAGE_PARAMS_SCHEMA = 'cvm-stage-params v1';

/** Id of the shipped staging model (core/cvm/params/<id>.json, models/staging/<id>/manifest.json). */
export const STAGE_MODEL_ID = 'cvm-stage-v1';

/** The shipped parameter file (core/cvm/params/<id>.json), checked against models/staging/<id>/manifest.json. */
export interface StagingModelParams {
  readonly schema: typeof STAGE_PARAMS_SCHEMA;
  readonly id: string;
  readonly version: string;
  /** Feature ids in the order of the weights (must equal STAGING_FEATURES). */
  readonly features: readonly string[];
  /** Standardisation: z = (x - mean) / scale, from the training data. */
  readonly mean: readonly number[];
  readonly scale: readonly number[];
  /** One row per stage CS1..CS6, one weight per standardised feature. */
  readonly weights: readonly (readonly number[])[];
  readonly bias: readonly number[];
  /** Scores are divided by this before the softmax (fitted on cross-validated predictions). */
  readonly temperature: number;
  /** The data the weights were fitted to: on it, only cross-validated figures are honest. */
  readonly training?: { readonly data: string; readonly dataSha256: string; readonly spines: number };
  /**
   * Landmark error model. The weights were fitted on points placed by people, so their placement error is already
   * part of the probabilities; only the error a landmark has beyond that is averaged over:
   * sigma_extra = sqrt(max(0, sigma^2 - annotatorSigmaMm^2)) per landmark, per axis.
   */
  readonly uncertainty: {
    /** Per-axis standard deviation of a human annotator's placement (mm). */
    readonly annotatorSigmaMm: number;
    /** Per-axis standard deviation of the landmark model's error when it gives none per landmark (mm). */
    readonly defaultModelSigmaMm: number;
    /**
     * Typical mean lower-border chord of C2-C4 (mm): expresses mm relative to vertebral size when the spacing is
     * unknown.
     */
    readonly referenceChordMm: number;
    /** Number of deterministic landmark samples (even: antithetic pairs). */
    readonly samples: number;
    /** Seed of the sample pattern. */
    readonly seed: number;
  };
}

const isNumberArray = (v: unknown, n: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Checks a parsed parameter file; throws an Error naming the first problem. */
export function parseStagingParams(value: unknown): StagingModelParams {
  const fail = (what: string): never => {
    throw new Error(`staging parameters: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not an object');
  const v = value as Record<string, unknown>;
  if (v.schema !== STAGE_PARAMS_SCHEMA)
    fail(`schema is ${JSON.stringify(v.schema)}, expected "${STAGE_PARAMS_SCHEMA}"`);
  if (typeof v.id !== 'string' || typeof v.version !== 'string') fail('id and version must be strings');
  const ids = STAGING_FEATURES.map((f) => f.id);
  if (!Array.isArray(v.features) || v.features.join(',') !== ids.join(','))
    fail(`features must be exactly [${ids.join(', ')}]`);
  if (!isNumberArray(v.mean, FEATURE_COUNT) || !isNumberArray(v.scale, FEATURE_COUNT))
    fail(`mean and scale need ${FEATURE_COUNT} finite numbers`);
  if ((v.scale as number[]).some((s) => s <= 0)) fail('scale must be positive');
  if (
    !Array.isArray(v.weights) ||
    v.weights.length !== 6 ||
    !v.weights.every((row) => isNumberArray(row, FEATURE_COUNT))
  ) {
    fail(`weights must be 6 rows of ${FEATURE_COUNT} finite numbers`);
  }
  if (!isNumberArray(v.bias, 6)) fail('bias needs 6 finite numbers');
  if (typeof v.temperature !== 'number' || !(v.temperature > 0)) fail('temperature must be a positive number');
  const t = v.training as Record<string, unknown> | undefined;
  if (
    t !== undefined &&
    (typeof t !== 'object' ||
      t === null ||
      typeof t.data !== 'string' ||
      typeof t.dataSha256 !== 'string' ||
      typeof t.spines !== 'number')
  ) {
    fail('training, when present, needs data (a file name), dataSha256 and spines');
  }
  const u = v.uncertainty as Record<string, unknown> | undefined;
  const nonNegative = (x: unknown): boolean => typeof x === 'number' && x >= 0;
  if (
    typeof u !== 'object' ||
    u === null ||
    !nonNegative(u.annotatorSigmaMm) ||
    !nonNegative(u.defaultModelSigmaMm) ||
    typeof u.referenceChordMm !== 'number' ||
    !(u.referenceChordMm > 0) ||
    typeof u.samples !== 'number' ||
    !Number.isInteger(u.samples) ||
    u.samples < 0 ||
    u.samples % 2 !== 0 ||
    typeof u.seed !== 'number' ||
    !Number.isInteger(u.seed)
  ) {
    fail(
      'uncertainty needs annotatorSigmaMm and defaultModelSigmaMm >= 0, referenceChordMm > 0, an even number of samples and an integer seed',
    );
  }
  return value as StagingModelParams;
}

// ---- deterministic landmark samples ---------------------------------------------------------------------------

/** mulberry32: a small, fast, seedable PRNG (same sequence on every platform). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sampleCache = new Map<string, Float64Array>();

/**
 * `count` standard-normal offsets for the 26 landmark coordinates, in antithetic pairs (z, -z) so the mean offset
 * is exactly zero. Fixed for a given seed: the averaged probabilities are a smooth function of the landmarks.
 */
export function landmarkSamples(count: number, seed: number): Float64Array {
  const key = `${count}:${seed}`;
  const cached = sampleCache.get(key);
  if (cached) return cached;
  const dims = 2 * LANDMARK_NAMES.length;
  const out = new Float64Array(count * dims);
  const rand = mulberry32(seed);
  for (let k = 0; k < count; k += 2) {
    for (let d = 0; d < dims; d++) {
      // Box-Muller; 1 - u keeps the logarithm finite.
      const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      out[k * dims + d] = z;
      out[(k + 1) * dims + d] = -z;
    }
  }
  sampleCache.set(key, out);
  return out;
}

// ---- evaluation -----------------------------------------------------------------------------------------------

// The kernels below run for every sample of every drag frame. Their indices stay below sizes that are checked
// once: FEATURE_COUNT and 6 rows by parseStagingParams, 26 coordinates and 6 scores by the scratch arrays.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- indices bounded as said above */

/** Linear scores (before temperature) of standardised features; `z` is overwritten with the standardised values. */
export function stageScores(params: StagingModelParams, x: Float64Array, out: Float64Array): Float64Array {
  for (let j = 0; j < FEATURE_COUNT; j++) x[j] = (x[j]! - params.mean[j]!) / params.scale[j]!;
  for (let c = 0; c < 6; c++) {
    const w = params.weights[c]!;
    let s = params.bias[c]!;
    for (let j = 0; j < FEATURE_COUNT; j++) s += w[j]! * x[j]!;
    out[c] = s;
  }
  return out;
}

/** Adds softmax(scores / temperature) to `acc`; false (nothing added) when a score is not finite. */
export function addSoftmax(scores: Float64Array, temperature: number, acc: Float64Array): boolean {
  let max = -Infinity;
  for (let c = 0; c < 6; c++) {
    const s = scores[c]!;
    if (!Number.isFinite(s)) return false;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let c = 0; c < 6; c++) sum += Math.exp((scores[c]! - max) / temperature);
  for (let c = 0; c < 6; c++) acc[c] = acc[c]! + Math.exp((scores[c]! - max) / temperature) / sum;
  return true;
}

const scratchXy = new Float64Array(2 * LANDMARK_NAMES.length);
const scratchFeatures = new Float64Array(FEATURE_COUNT);
const scratchScores = new Float64Array(6);

/**
 * P(CS1..CS6) for one spine: the mean over the deterministic landmark samples of the model's probabilities, each
 * landmark moved by sigma[i] times its sample offset (per axis). `xy`: 26 coordinates (square units), `side` the
 * facing (+1 right, -1 left), `sigma`: 13 standard deviations in the same units (all 0: no averaging).
 * Returns `out` (6 probabilities summing to 1).
 */
export function stageProbabilities(
  params: StagingModelParams,
  xy: ArrayLike<number>,
  side: number,
  sigma: ArrayLike<number>,
  out: Float64Array = new Float64Array(6),
  temperature: number = params.temperature,
): Float64Array {
  out.fill(0);
  const n = params.uncertainty.samples;
  let used = 0;
  let anySigma = false;
  for (let i = 0; i < sigma.length; i++) if (sigma[i]! > 0) anySigma = true;
  if (n > 0 && anySigma) {
    const z = landmarkSamples(n, params.uncertainty.seed);
    const dims = scratchXy.length;
    for (let k = 0; k < n; k++) {
      for (let d = 0; d < dims; d++) scratchXy[d] = xy[d]! + sigma[d >> 1]! * z[k * dims + d]!;
      computeStagingFeatures(scratchXy, side, scratchFeatures);
      stageScores(params, scratchFeatures, scratchScores);
      if (addSoftmax(scratchScores, temperature, out)) used++;
    }
  }
  if (used === 0) {
    computeStagingFeatures(xy, side, scratchFeatures);
    stageScores(params, scratchFeatures, scratchScores);
    if (addSoftmax(scratchScores, temperature, out)) used = 1;
  }
  if (used === 0) {
    out.fill(Number.NaN);
    return out;
  }
  for (let c = 0; c < 6; c++) out[c] = out[c]! / used;
  return out;
}

/** The mean lower-border chord of C2, C3 and C4 in the units of `xy`: the reference length of the default error. */
export function meanLowerChord(xy: ArrayLike<number>): number {
  const l = (i: number, j: number): number => Math.hypot(xy[2 * i]! - xy[2 * j]!, xy[2 * i + 1]! - xy[2 * j + 1]!);
  return (l(0, 2) + l(4, 6) + l(9, 11)) / 3;
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */
