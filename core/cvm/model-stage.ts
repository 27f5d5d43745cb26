/**
 * The answer the orthodontist sees: the clinician-fitted model's P(CS1..CS6) with landmark error folded in, the
 * most probable stage, the runner-up, a confidence word, what each measurement contributes, the textbook criteria
 * as the explanation and one sentence where they depart, peak-growth timing and a gentle age check.
 */
import { formatYearsMonths } from '../metadata/age';
import paramsJson from './params/cvm-stage-v1.json';
import type { PixelSpacingMm } from '../geometry/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../landmarks/index';
import { computeStagingFeatures, FEATURE_COUNT, physicalCoordinates, STAGING_FEATURES } from './features';
import { PEAK_TIMING, typicalAge } from './growth';
import { meanLowerChord, parseStagingParams, stageProbabilities, stageScores, type StagingModelParams } from './model';
import { missedCriteria } from './stage';
import { stageAt, type CvmStage, type Measurements, type StageResult } from './types';
import { el, row } from './vector';

/** The shipped model, checked when this module loads (a malformed file fails loudly at start, not per spine). */
export const STAGE_MODEL: StagingModelParams = parseStagingParams(paramsJson);

/** Mean radial error (mm) -> per-axis standard deviation of a 2-D isotropic normal error. */
export const RADIAL_TO_SIGMA = 1 / Math.sqrt(Math.PI / 2);

export type ConfidenceWord = 'high' | 'moderate' | 'low';

export interface StagingOptions {
  /**
   * Expected radial error (mm) of each landmark that was placed by the landmark model and not corrected by a person
   * (from the landmark model; `null`: placed by the model, error unknown, the model's default is used). Landmarks
   * absent here count as placed by a person: their placement error is already part of the fitted probabilities.
   */
  readonly landmarkErrorMm?: Partial<Record<LandmarkName, number | null>>;
  readonly ageYears?: number | null;
  readonly sex?: string | null;
  /** Another parameter set (tests, comparisons); default the shipped STAGE_MODEL. */
  readonly model?: StagingModelParams;
}

export interface FeatureContribution {
  readonly id: string;
  readonly label: string;
  readonly short: string;
  /** The feature's value on these landmarks. */
  readonly value: number;
  /** Its contribution to the log-odds of the stage over the runner-up (positive: favours the stage). */
  readonly towardsStage: number;
}

export interface PeakGrowth {
  readonly ahead: number;
  readonly withinYear: number;
  readonly past: number;
  readonly text: string;
}

export interface AgeCheck {
  readonly ageYears: number;
  readonly typical: readonly [number, number];
  /** A gentle note when the age lies more than two years outside the typical range of the stage; else null. */
  readonly flag: string | null;
}

export interface ModelStaging {
  readonly model: { readonly id: string; readonly version: string };
  /** P(CS1..CS6), in stage order, summing to 1. */
  readonly probabilities: readonly number[];
  readonly stage: CvmStage;
  readonly probability: number;
  readonly runnerUp: CvmStage;
  readonly runnerUpProbability: number;
  readonly confidence: ConfidenceWord;
  /** "CS4 62% (runner-up CS5 25%), moderate confidence". */
  readonly summary: string;
  /** The textbook (2018 guide) result beside the model's. */
  readonly textbook: {
    readonly stage: CvmStage | null;
    readonly agrees: boolean;
    /** One sentence where the textbook criteria give no stage or another one; null when they agree. */
    readonly note: string | null;
  };
  /** Each feature's value and contribution, largest effect first. */
  readonly contributions: readonly FeatureContribution[];
  readonly peakGrowth: PeakGrowth;
  readonly age: AgeCheck | null;
  readonly uncertainty: {
    /** Landmarks whose error beyond a person's placement was averaged over. */
    readonly averagedLandmarks: number;
    readonly samples: number;
    readonly text: string;
  };
}

const pct = (p: number): string => `${Math.round(p * 100)}%`;

export function confidenceWord(p: number): ConfidenceWord {
  return p >= 0.7 ? 'high' : p >= 0.5 ? 'moderate' : 'low';
}

const xyScratch = new Float64Array(2 * LANDMARK_NAMES.length);
const sigmaScratch = new Float64Array(LANDMARK_NAMES.length);
const featureScratch = new Float64Array(FEATURE_COUNT);
const scoreScratch = new Float64Array(6);

/**
 * The model's staging of measured landmarks. `m` and `textbook` come from measure() and stage() of the same
 * landmarks (so errors have already been returned as errors).
 */
export function modelStaging(
  landmarks: LandmarkSet,
  spacing: PixelSpacingMm | null,
  m: Measurements,
  textbook: StageResult,
  options: StagingOptions = {},
): ModelStaging {
  const params = options.model ?? STAGE_MODEL;
  const u = params.uncertainty;
  const xy = physicalCoordinates(landmarks, spacing, xyScratch);
  const side = m.facing === 'right' ? 1 : -1;
  // Error beyond a person's placement, per landmark, in the units of xy.
  const unitsPerMm = spacing === null ? meanLowerChord(xy) / u.referenceChordMm : 1;
  let averaged = 0;
  for (const [i, name] of LANDMARK_NAMES.entries()) {
    const given = options.landmarkErrorMm?.[name];
    if (given === undefined) {
      sigmaScratch[i] = 0;
      continue;
    }
    const sigmaMm =
      given === null || !Number.isFinite(given) || given < 0 ? u.defaultModelSigmaMm : given * RADIAL_TO_SIGMA;
    const extra = Math.sqrt(Math.max(0, sigmaMm * sigmaMm - u.annotatorSigmaMm * u.annotatorSigmaMm));
    sigmaScratch[i] = extra * unitsPerMm;
    if (extra > 0) averaged++;
  }
  const probabilities = Array.from(stageProbabilities(params, xy, side, sigmaScratch));
  const ranked = probabilities.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p || a.i - b.i);
  const [top, next] = ranked;
  if (!top || !next) throw new RangeError(`the staging model gave ${probabilities.length} probabilities, not 6`);
  const best = top.i;
  const second = next.i;
  const stage = stageAt(best);
  const runnerUp = stageAt(second);
  const probability = top.p;
  const confidence = confidenceWord(probability);

  // Contributions on the landmarks as placed (no averaging): standardised feature times the weight difference.
  computeStagingFeatures(xy, side, featureScratch);
  const raw = Array.from(featureScratch);
  stageScores(params, featureScratch, scoreScratch); // standardises featureScratch in place
  const wBest = row(params.weights, best, 'stage weights');
  const wSecond = row(params.weights, second, 'stage weights');
  const contributions = STAGING_FEATURES.map((f, j): FeatureContribution => ({
    id: f.id,
    label: f.label,
    short: f.short,
    value: el(raw, j, 'features'),
    towardsStage:
      ((el(wBest, j, 'weights') - el(wSecond, j, 'weights')) * el(featureScratch, j, 'features')) / params.temperature,
  })).sort((a, b) => Math.abs(b.towardsStage) - Math.abs(a.towardsStage));

  const textbookStage = textbook.kind === 'stage' ? textbook.stage : null;
  let note: string | null = null;
  if (textbookStage !== stage) {
    const missed = textbook.findings ? missedCriteria(textbook.findings, stage) : [];
    const why = missed.length > 0 ? `: ${missed.join(', ')}` : '';
    note =
      textbookStage === null
        ? `Textbook criteria fit no stage${why}; clinicians staged spines like this ${stage}.`
        : `Textbook criteria give ${textbookStage}${missed.length > 0 ? ` (for ${stage}${why})` : ''}; clinicians staged spines like this ${stage}.`;
  }

  let ahead = 0,
    withinYear = 0,
    past = 0;
  probabilities.forEach((p, i) => {
    const timing = PEAK_TIMING[stageAt(i)];
    ahead += p * timing.ahead;
    withinYear += p * timing.withinYear;
    past += p * timing.past;
  });
  const peakGrowth: PeakGrowth = {
    ahead,
    withinYear,
    past,
    text: `Peak mandibular growth: still ahead ${pct(ahead)}, within about a year ${pct(withinYear)}, past ${pct(past)}.`,
  };

  let age: AgeCheck | null = null;
  if (typeof options.ageYears === 'number' && Number.isFinite(options.ageYears) && options.ageYears > 0) {
    const years = options.ageYears;
    const typical = typicalAge(stage, options.sex);
    const range = Number.isFinite(typical[1]) ? `${typical[0]}-${typical[1]}` : `${typical[0]} or older`;
    const who = options.sex === 'F' ? 'girls' : options.sex === 'M' ? 'boys' : 'children';
    let flag: string | null = null;
    if (years < typical[0] - 2)
      flag = `At ${formatYearsMonths(years)}, ${stage} is early (typical for ${who}: ${range} years); timing varies widely, but a second look at the landmarks is worthwhile.`;
    else if (years > typical[1] + 2)
      flag = `At ${formatYearsMonths(years)}, ${stage} is late (typical for ${who}: ${range} years); timing varies widely, but a second look at the landmarks is worthwhile.`;
    age = { ageYears: years, typical, flag };
  }

  return {
    model: { id: params.id, version: params.version },
    probabilities,
    stage,
    probability,
    runnerUp,
    runnerUpProbability: next.p,
    confidence,
    summary: `${stage} ${pct(probability)} (runner-up ${runnerUp} ${pct(next.p)}), ${confidence} confidence`,
    textbook: { stage: textbookStage, agrees: textbookStage === stage, note },
    contributions,
    peakGrowth,
    age,
    uncertainty: {
      averagedLandmarks: averaged,
      samples: averaged > 0 ? u.samples : 0,
      text:
        averaged > 0
          ? `Averaged over ${u.samples} samples of ${averaged} landmark${averaged === 1 ? '' : 's'} placed by the landmark model, within their expected error beyond a person's placement.`
          : 'Landmarks as placed by a person: their placement error is already part of the fitted probabilities.',
    },
  };
}

/** "CS4 (62%)". */
export function modelStageLabel(s: ModelStaging): string {
  return `${s.stage} (${pct(s.probability)})`;
}

/**
 * The landmark-error option for a set of current landmarks: those still exactly where the landmark model put them
 * (`ai`) carry its expected error (`expectedErrorMm` per landmark when the model gives one, else its default);
 * every other landmark was placed or moved by a person.
 */
export function modelPlacedErrors(
  landmarks: LandmarkSet,
  ai: LandmarkSet | null,
  expectedErrorMm: Partial<Record<LandmarkName, number>> = {},
): Partial<Record<LandmarkName, number | null>> {
  const out: Partial<Record<LandmarkName, number | null>> = {};
  if (!ai) return out;
  for (const n of LANDMARK_NAMES) {
    const p = landmarks[n];
    const q = ai[n];
    if (p && q && p.x === q.x && p.y === q.y) out[n] = expectedErrorMm[n] ?? null;
  }
  return out;
}
