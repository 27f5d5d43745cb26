/** The stage stored with each landmark version: core/cvm's assessment, summarised for filtering. */
import { assess, stageLabel } from '../../core/cvm/index';
import type { PixelSpacingMm } from '../../core/geometry/index';
import { toLandmarkSet, type LandmarkPoints, type StageSummary } from '../../core/api/studies';

export interface StageRecord {
  readonly summary: StageSummary;
  /** The whole assessment (measurements, rule, explanation) as JSON. */
  readonly assessmentJson: string;
}

export type StageFn = (points: LandmarkPoints, spacing: PixelSpacingMm | null) => StageRecord;

function messageOf(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return JSON.stringify(error);
}

export const stageRecordOf: StageFn = (points, spacing) => {
  const assessment = assess(toLandmarkSet(points), spacing);
  const assessmentJson = JSON.stringify(assessment);
  if (!assessment.ok) {
    return { summary: { kind: 'error', stage: null, label: messageOf(assessment.error), borderline: false }, assessmentJson };
  }
  const result = assessment.result;
  const label = stageLabel(result);
  if (result.kind === 'stage') {
    return { summary: { kind: 'stage', stage: result.stage, label, borderline: result.borderline !== null }, assessmentJson };
  }
  return { summary: { kind: 'no-fit', stage: null, label, borderline: false }, assessmentJson };
};
