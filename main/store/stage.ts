/** The stage stored with each landmark version: core/cvm's assessment, summarised for filtering. */
import { assess, modelStageLabel, STAGE_MODEL, type StagingOptions } from '../../core/cvm/index';
import type { PixelSpacingMm } from '../../core/geometry/index';
import type { LandmarkName } from '../../core/landmarks/index';
import { checkPlausibility } from '../../core/review/plausibility';
import { toLandmarkSet, type LandmarkPoints, type StageSummary } from '../../core/api/studies';

export interface StageRecord {
  readonly summary: StageSummary;
  /** The whole assessment (measurements, rule, explanation) as JSON. */
  readonly assessmentJson: string;
}

/**
 * `fromPrediction`: names whose position is the landmark model's, unmoved (their error beyond a person's is folded in).
 */
export type StageFn = (
  points: LandmarkPoints,
  spacing: PixelSpacingMm | null,
  fromPrediction?: readonly LandmarkName[],
) => StageRecord;

/**
 * Identifies the staging model a stored result came from; results of another model are recomputed when the store opens.
 */
export const STAGE_MODEL_TAG = `${STAGE_MODEL.id} ${STAGE_MODEL.version}`;

/** The staging options for a stored landmark version: unmoved predictions carry the landmark model's default error. */
function stagingOptionsFor(fromPrediction: readonly LandmarkName[] = []): StagingOptions {
  return fromPrediction.length === 0
    ? {}
    : { landmarkErrorMm: Object.fromEntries(fromPrediction.map((n) => [n, null])) };
}

function messageOf(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string')
    return error.message;
  return JSON.stringify(error);
}

/**
 * An anatomically impossible configuration (core/review/plausibility.ts: the vertebrae cross, a body is twisted or
 * collapsed; no real spine is) gets no stored stage, only why: the staging model would still give one (the landmark
 * model's points for a column it could not find gave "CS1 99%" in the worklist), and approval refuses such a set
 * anyway. The study view still shows what the points would give, marked not valid. Stages stored before this rule
 * are computed again once (migration 13).
 */
export const stageRecordOf: StageFn = (points, spacing, fromPrediction) => {
  const landmarks = toLandmarkSet(points);
  const assessment = assess(landmarks, spacing, undefined, stagingOptionsFor(fromPrediction));
  const assessmentJson = JSON.stringify(assessment);
  if (!assessment.ok) {
    return {
      summary: { kind: 'error', stage: null, label: messageOf(assessment.error), borderline: false },
      assessmentJson,
    };
  }
  const impossible = checkPlausibility(landmarks, spacing).problems.find((p) => p.severity === 'implausible');
  if (impossible) {
    return {
      summary: {
        kind: 'error',
        stage: null,
        label: `landmarks anatomically impossible (${impossible.message.replace(/\.$/, '')})`,
        borderline: false,
      },
      assessmentJson,
    };
  }
  const s = assessment.staging;
  return {
    summary: {
      kind: 'stage',
      stage: s.stage,
      label: modelStageLabel(s),
      borderline: s.confidence === 'low',
      probability: s.probability,
      runnerUp: s.runnerUp,
      runnerUpProbability: s.runnerUpProbability,
      confidence: s.confidence,
      textbookStage: s.textbook.stage,
    },
    assessmentJson,
  };
};
