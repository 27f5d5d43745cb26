/** Row shapes of the tables and their conversion to the API's types. */
import { LANDMARK_NAMES, isLandmarkName, type LandmarkName } from '../../core/landmarks/index';
import type { Spacing, SpacingSource } from '../../core/api/image';
import type {
  Calibration,
  LandmarkPoints,
  LandmarkSetKind,
  LandmarkVersion,
  ModelRunInfo,
  StageCode,
  StageSummary,
} from '../../core/api/studies';

export interface ImageRow {
  id: number;
  study_ref: number;
  sha256: string;
  stored_path: string;
  original_name: string;
  byte_size: number;
  format: 'dicom' | 'png' | 'jpeg' | 'tiff';
  width: number;
  height: number;
  frames: number;
  file_spacing_row_mm: number | null;
  file_spacing_col_mm: number | null;
  file_spacing_source: string | null;
  file_spacing_detail: string | null;
  cal_row_mm: number | null;
  cal_col_mm: number | null;
  cal_method: 'entered' | 'two-points' | null;
  cal_detail: string | null;
  cal_by: string | null;
  cal_at: string | null;
  review_status: 'unreviewed' | 'in-progress' | 'approved';
  reviewed_by: string | null;
  reviewed_at: string | null;
  latest_set_ref: number | null;
  ai_set_ref: number | null;
  min_confidence: number | null;
  imported_at: string;
  updated_at: string;
}

/** The stage columns of stage_results as STAGE_COLUMNS (main/store/stages.ts) name them. */
export interface StageColumns {
  stage_kind: StageSummary['kind'] | null;
  stage: StageCode | null;
  stage_label: string | null;
  borderline: number | null;
  probability: number | null;
  runner_up: StageCode | null;
  runner_up_probability: number | null;
  confidence: 'high' | 'moderate' | 'low' | null;
  textbook_stage: StageCode | null;
}

/** A landmark version joined with its stage (SET_WITH_STAGE). */
export interface LandmarkSetRow extends StageColumns {
  id: number;
  image_ref: number;
  version: number;
  kind: LandmarkSetKind;
  base_ref: number | null;
  reverted_from_ref: number | null;
  model_run_ref: number | null;
  author: string;
  created_at: string;
  points_json: string;
  moved_json: string | null;
  note: string | null;
  from_prediction_json: string | null;
}

export interface ModelRunRow {
  id: number;
  image_ref: number;
  model_id: string;
  model_version: string;
  model_sha256: string;
  provider: string;
  timings_json: string;
  landmarks_json: string;
  confidences_json: string;
  quality_json: string | null;
  min_confidence: number | null;
  created_at: string;
}

export function fileSpacingOf(row: ImageRow): Spacing | null {
  if (row.file_spacing_row_mm === null || row.file_spacing_col_mm === null || row.file_spacing_source === null)
    return null;
  return {
    rowMm: row.file_spacing_row_mm,
    colMm: row.file_spacing_col_mm,
    source: row.file_spacing_source as SpacingSource,
    detail: row.file_spacing_detail ?? '',
  };
}

export function calibrationOf(row: ImageRow): Calibration | null {
  if (row.cal_row_mm === null || row.cal_col_mm === null || row.cal_method === null) return null;
  return {
    rowMm: row.cal_row_mm,
    colMm: row.cal_col_mm,
    method: row.cal_method,
    detail: row.cal_detail ?? '',
    by: row.cal_by ?? '',
    at: row.cal_at ?? '',
  };
}

/** Calibration if present, else the file's spacing, else null (measurements in px). */
export function effectiveSpacingOf(row: ImageRow): Spacing | null {
  const cal = calibrationOf(row);
  if (cal) {
    return {
      rowMm: cal.rowMm,
      colMm: cal.colMm,
      source: cal.method === 'entered' ? 'entered' : 'calibration',
      detail: `${cal.detail ? `${cal.detail}; ` : ''}${cal.method === 'entered' ? 'entered' : 'calibrated'} by ${cal.by} on ${cal.at.slice(0, 10)}`,
    };
  }
  return fileSpacingOf(row);
}

/** Points in canonical order, so equal sets serialise to equal JSON. */
export function pointsToJson(points: LandmarkPoints): string {
  const ordered: Record<string, readonly [number, number]> = {};
  for (const name of LANDMARK_NAMES) {
    const p = points[name];
    if (p) ordered[name] = [p[0], p[1]];
  }
  return JSON.stringify(ordered);
}

export function pointsFromJson(json: string): LandmarkPoints {
  return JSON.parse(json) as LandmarkPoints;
}

/** The stage of a row read with STAGE_COLUMNS, or null when it has none. */
export function stageOfRow(row: StageColumns): StageSummary | null {
  if (row.stage_kind === null || row.stage_label === null) return null;
  return {
    kind: row.stage_kind,
    stage: row.stage,
    label: row.stage_label,
    borderline: row.borderline === 1,
    probability: row.probability,
    runnerUp: row.runner_up,
    runnerUpProbability: row.runner_up_probability,
    confidence: row.confidence,
    textbookStage: row.textbook_stage,
  };
}

export function versionOf(row: LandmarkSetRow): LandmarkVersion {
  const moved = row.moved_json === null ? null : (JSON.parse(row.moved_json) as string[]).filter(isLandmarkName);
  return {
    versionId: row.id,
    version: row.version,
    kind: row.kind,
    author: row.author,
    createdAt: row.created_at,
    baseVersionId: row.base_ref,
    revertedFromVersionId: row.reverted_from_ref,
    modelRunId: row.model_run_ref,
    note: row.note,
    moved,
    fromPrediction:
      row.from_prediction_json === null
        ? null
        : (JSON.parse(row.from_prediction_json) as string[]).filter(isLandmarkName),
    points: pointsFromJson(row.points_json),
    stage: stageOfRow(row),
  };
}

export function modelRunOf(row: ModelRunRow): ModelRunInfo {
  return {
    runId: row.id,
    modelId: row.model_id,
    modelVersion: row.model_version,
    modelSha256: row.model_sha256,
    provider: row.provider,
    timingsMs: JSON.parse(row.timings_json) as Record<string, number>,
    confidences: JSON.parse(row.confidences_json) as Partial<Record<LandmarkName, number>>,
    minConfidence: row.min_confidence,
    quality: row.quality_json === null ? null : (JSON.parse(row.quality_json) as unknown),
    createdAt: row.created_at,
  };
}

/** The names of a stored version taken from a prediction (for versions before schema 3: all of an 'ai' one). */
export function predictionNamesOf(row: LandmarkSetRow): LandmarkName[] {
  if (row.from_prediction_json !== null) return JSON.parse(row.from_prediction_json) as LandmarkName[];
  return row.kind === 'ai' ? LANDMARK_NAMES.filter((n) => pointsFromJson(row.points_json)[n] !== undefined) : [];
}

/** The names both sets hold at the same coordinates. */
export function equalPointNames(a: LandmarkPoints, b: LandmarkPoints): LandmarkName[] {
  return LANDMARK_NAMES.filter((n) => {
    const p = a[n];
    const q = b[n];
    return p !== undefined && q !== undefined && p[0] === q[0] && p[1] === q[1];
  });
}

/** True when two point sets hold the same names at the same coordinates. */
export function samePoints(a: LandmarkPoints, b: LandmarkPoints): boolean {
  return LANDMARK_NAMES.every((n) => {
    const p = a[n];
    const q = b[n];
    return p === undefined ? q === undefined : q !== undefined && p[0] === q[0] && p[1] === q[1];
  });
}
