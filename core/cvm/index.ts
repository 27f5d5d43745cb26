/**
 * The CVM staging engine: landmarks + pixel spacing -> measurements -> stage with its explanation.
 * Pure and fast: the renderer calls assess() on every mouse move while a landmark is dragged.
 */
import type { PixelSpacingMm } from '../geometry/index';
import type { LandmarkSet } from '../landmarks/index';
import { measure } from './measure';
import { stage } from './stage';
import { DEFAULT_THRESHOLDS } from './thresholds';
import type { Assessment, StageResult, Thresholds } from './types';

export { measure, classifyShape, isTrapezoid, shapeRatio } from './measure';
export { stage } from './stage';
export { DEFAULT_THRESHOLDS, CVMT_THRESHOLDS, THRESHOLD_PRESETS } from './thresholds';
export { PEAK_GROWTH } from './growth';
export { syntheticLandmarks, type SyntheticBody, type SyntheticSpec } from './synthetic';
export { CVM_STAGES } from './types';
export type {
  Assessment, BodyMeasurements, Borderline, BorderConcavity, Comparison, ComparisonUnit, CvmStage, LengthUnit,
  MeasureResult, Measurements, ShapeClass, StageResult, StagingError, StagingErrorCode, Thresholds,
} from './types';

/** measure() then stage() with the same thresholds. */
export function assess(landmarks: LandmarkSet, spacing: PixelSpacingMm | null, thresholds: Thresholds = DEFAULT_THRESHOLDS): Assessment {
  const measured = measure(landmarks, spacing, thresholds);
  if (!measured.ok) return measured;
  return { ok: true, measurements: measured.value, result: stage(measured.value, thresholds) };
}

/** "CS3", "CS3/CS4 borderline", "no stage fits (nearest CS3, CS4)". */
export function stageLabel(result: StageResult): string {
  if (result.kind === 'no-fit') return `no stage fits (nearest ${result.nearest.join(', ')})`;
  if (result.borderline !== null) return `${result.borderline.candidates[0]}/${result.borderline.candidates[1]} borderline`;
  return result.stage;
}
