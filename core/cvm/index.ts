/**
 * The CVM staging engine: landmarks + pixel spacing -> measurements -> stage with its explanation.
 * Pure and fast: the renderer calls assess() on every mouse move while a landmark is dragged.
 */
import type { PixelSpacingMm } from '../geometry/index';
import type { LandmarkSet } from '../landmarks/index';
import { measure } from './measure';
import { modelStaging, type StagingOptions } from './model-stage';
import { stage } from './stage';
import { DEFAULT_THRESHOLDS } from './thresholds';
import type { Assessment, StageResult, Thresholds } from './types';

export { measure, classifyShape, isTrapezoid, shapeRatio } from './measure';
export { stage, missedCriteria } from './stage';
export {
  summariseExpectedErrors,
  expectedErrorSentences,
  type ExpectedErrorSummary,
  type ModelPlacedPoint,
} from './expected-error';
export {
  modelStaging,
  modelStageLabel,
  modelPlacedErrors,
  confidenceWord,
  STAGE_MODEL,
  RADIAL_TO_SIGMA,
  type AgeCheck,
  type ConfidenceWord,
  type FeatureContribution,
  type ModelStaging,
  type PeakGrowth,
  type StagingOptions,
} from './model-stage';
export {
  STAGING_FEATURES,
  FEATURE_COUNT,
  computeStagingFeatures,
  physicalCoordinates,
  type StagingFeature,
} from './features';
export {
  parseStagingParams,
  stageProbabilities,
  STAGE_MODEL_ID,
  STAGE_PARAMS_SCHEMA,
  type StagingModelParams,
} from './model';
export { DEFAULT_THRESHOLDS, CVMT_THRESHOLDS, THRESHOLD_PRESETS } from './thresholds';
export { PEAK_GROWTH, PEAK_TIMING, TYPICAL_AGE_GIRLS, typicalAge } from './growth';
export { CVM_STAGES, stageAt } from './types';
export type {
  Assessment,
  BodyMeasurements,
  Borderline,
  BorderConcavity,
  Comparison,
  ComparisonUnit,
  CvmStage,
  LengthUnit,
  MeasureResult,
  Measurements,
  ShapeClass,
  StageResult,
  StagingError,
  StagingErrorCode,
  TextbookFindings,
  Thresholds,
} from './types';

/**
 * measure(), then the textbook criteria (stage() with `thresholds`) and the clinician-fitted model (modelStaging():
 * probabilities with landmark error folded in, stage, runner-up, explanation). Bad landmarks give an error, never a
 * stage.
 */
export function assess(
  landmarks: LandmarkSet,
  spacing: PixelSpacingMm | null,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
  options: StagingOptions = {},
): Assessment {
  const measured = measure(landmarks, spacing, thresholds);
  if (!measured.ok) return measured;
  const result = stage(measured.value, thresholds);
  return {
    ok: true,
    measurements: measured.value,
    result,
    staging: modelStaging(landmarks, spacing, measured.value, result, options),
  };
}

/** "CS3", "CS3/CS4 borderline", "no stage fits (nearest CS3, CS4)". */
export function stageLabel(result: StageResult): string {
  if (result.kind === 'no-fit') return `no stage fits (nearest ${result.nearest.join(', ')})`;
  if (result.borderline !== null)
    return `${result.borderline.candidates[0]}/${result.borderline.candidates[1]} borderline`;
  return result.stage;
}
