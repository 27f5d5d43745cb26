/**
 * The stored studies as the renderer sees them: import, worklist, one study with its landmark versions,
 * edits, review and calibration. Landmark positions travel as `[x, y]` image pixels keyed by name.
 */
import { LANDMARK_NAMES, isLandmarkName, type LandmarkName, type LandmarkSet } from '../landmarks/index';
import { imagePoint } from '../geometry/index';
import { CVM_STAGES, type CvmStage } from '../cvm/index';
import type { ApiError } from './result';
import { s, type Infer, type Schema } from './schema';
import { fileUpload, type ImageInfo, type Spacing } from './image';

export const REVIEW_STATUSES = ['unreviewed', 'in-progress', 'approved'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

/** ai: a model's prediction; edit: a saved human correction; revert: a copy of an earlier version;
 *  manual: placed by hand with no earlier version; import: from a cvm13 file. */
export type LandmarkSetKind = 'ai' | 'edit' | 'revert' | 'manual' | 'import';

export const STAGE_CODES = CVM_STAGES;
export type StageCode = CvmStage;

export type PointTuple = readonly [number, number];
export type LandmarkPoints = Partial<Record<LandmarkName, PointTuple>>;

/** Largest coordinate accepted: far beyond any radiograph, small enough to catch garbage. */
const MAX_COORDINATE = 1_000_000;

/** `{name: [x, y]}` with known names and finite coordinates. */
export const landmarkPoints: Schema<LandmarkPoints> = {
  describe: 'landmark points',
  check(value, path = 'payload') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path} must be an object`;
    for (const [name, point] of Object.entries(value)) {
      if (!isLandmarkName(name))
        return `${path}.${name} is not a landmark name (expected one of ${LANDMARK_NAMES.join(', ')})`;
      if (!Array.isArray(point) || point.length !== 2) return `${path}.${name} must be [x, y]`;
      for (const c of point) {
        if (typeof c !== 'number' || !Number.isFinite(c) || Math.abs(c) > MAX_COORDINATE) {
          return `${path}.${name} must hold two finite pixel coordinates`;
        }
      }
    }
    return null;
  },
};

export function toLandmarkSet(points: LandmarkPoints): LandmarkSet {
  const set: LandmarkSet = {};
  for (const name of LANDMARK_NAMES) {
    const p = points[name];
    if (p) set[name] = imagePoint(p[0], p[1]);
  }
  return set;
}

export function fromLandmarkSet(set: LandmarkSet): LandmarkPoints {
  const points: LandmarkPoints = {};
  for (const name of LANDMARK_NAMES) {
    const p = set[name];
    if (p) points[name] = [p.x, p.y];
  }
  return points;
}

/** The stage stored with a landmark version (the full assessment is recomputed by core/cvm when needed). */
export interface StageSummary {
  /** stage: a CS stage; no-fit: the measurements match no stage; error: not computable (e.g. points missing). */
  readonly kind: 'stage' | 'no-fit' | 'error';
  readonly stage: StageCode | null;
  /** e.g. "CS3", "CS3/CS4 borderline", "no stage fits", or why it could not be computed. */
  readonly label: string;
  /** The staging model's confidence is low (its top probability under 50%); before the model: a textbook borderline. */
  readonly borderline: boolean;
  /** The staging model's probability of `stage` (absent or null: an error, or a result stored before the model). */
  readonly probability?: number | null;
  readonly runnerUp?: StageCode | null;
  readonly runnerUpProbability?: number | null;
  readonly confidence?: 'high' | 'moderate' | 'low' | null;
  /** The textbook criteria's stage (null: none fits, or an error). */
  readonly textbookStage?: StageCode | null;
}

const imageId = s.number({ integer: true, positive: true });
const isoDate = s.string({ maxLength: 10 });

// importFiles
export const importFilesRequest = s.object({
  files: s.array(fileUpload, 10_000),
  /** Pixel spacing for files without one (PNG/JPEG), recorded as entered by the user. */
  spacingMm: s.optional(s.number({ positive: true, max: 10 })),
});
export type ImportFilesRequest = Infer<typeof importFilesRequest>;
export type ImportFileResult =
  | {
      readonly fileName: string;
      readonly ok: true;
      readonly imageId: number;
      readonly studyId: number;
      readonly duplicate: boolean;
      readonly warnings?: readonly string[];
    }
  | { readonly fileName: string; readonly ok: false; readonly error: ApiError };
export interface ImportFilesResponse {
  readonly results: readonly ImportFileResult[];
}

// listStudies
export const STUDY_SORT_FIELDS = [
  'updatedAt',
  'importedAt',
  'patientName',
  'patientId',
  'studyDate',
  'ageYears',
  'stage',
  'reviewStatus',
  'expectedErrorMm',
  'fileName',
  'stageProbability',
] as const;
export type StudySortField = (typeof STUDY_SORT_FIELDS)[number];
export const listStudiesRequest = s.object({
  /** Matches patient name, patient id or file name (case-insensitive substring). */
  search: s.optional(s.string({ maxLength: 200 })),
  /** A stage, 'no-fit' (the textbook criteria fit no stage), or 'none' (no landmarks or no stage computed). */
  stage: s.optional(s.literal(...STAGE_CODES, 'no-fit', 'none')),
  /** The staging model's confidence in its stage. */
  stageConfidence: s.optional(s.literal('high', 'moderate', 'low')),
  reviewStatus: s.optional(s.literal(...REVIEW_STATUSES)),
  /** Study dates, ISO yyyy-mm-dd, inclusive. */
  dateFrom: s.optional(isoDate),
  dateTo: s.optional(isoDate),
  sort: s.optional(s.object({ field: s.literal(...STUDY_SORT_FIELDS), dir: s.literal('asc', 'desc') })),
  offset: s.number({ integer: true, min: 0 }),
  limit: s.number({ integer: true, min: 1, max: 1000 }),
});
export type ListStudiesRequest = Infer<typeof listStudiesRequest>;
export interface StudyRow {
  readonly imageId: number;
  readonly studyId: number;
  readonly patientName: string | null;
  readonly patientId: string | null;
  readonly sex: 'M' | 'F' | 'O' | null;
  readonly studyDate: string | null;
  readonly ageYears: number | null;
  readonly stageLabel: string | null;
  readonly stage: StageCode | null;
  readonly borderline: boolean;
  /** The staging model's probability of `stage` and its confidence word (null: not staged by the model). */
  readonly stageProbability?: number | null;
  readonly stageConfidence?: 'high' | 'moderate' | 'low' | null;
  readonly reviewStatus: ReviewStatus;
  readonly reviewedBy: string | null;
  /**
   * The landmark model's check of its own prediction (the 'ai' version): the image verdict of the quality
   * gate and the largest calibrated expected error of its landmarks in mm (null: not analysed, or a model
   * without an expected-error calibration). Raw heatmap peaks are not shown to users.
   */
  readonly aiVerdict: 'ok' | 'uncertain' | 'failed' | null;
  readonly maxExpectedErrorMm: number | null;
  readonly fileName: string;
  readonly updatedAt: string;
}
export interface ListStudiesResponse {
  readonly total: number;
  readonly rows: readonly StudyRow[];
}

// loadStudy
export const imageRequest = s.object({ imageId });
export type ImageRequest = Infer<typeof imageRequest>;

export interface Calibration {
  readonly rowMm: number;
  readonly colMm: number;
  readonly method: 'entered' | 'two-points';
  readonly detail: string;
  readonly by: string;
  readonly at: string;
}

export interface LandmarkVersion {
  readonly versionId: number;
  /** 1, 2, 3... per image. */
  readonly version: number;
  readonly kind: LandmarkSetKind;
  readonly author: string;
  readonly createdAt: string;
  readonly baseVersionId: number | null;
  readonly revertedFromVersionId: number | null;
  readonly modelRunId: number | null;
  readonly note: string | null;
  /** The names the user moved in this gesture, when the client said. */
  readonly moved: readonly LandmarkName[] | null;
  /** Names whose position is a model's prediction nobody moved (null: not recorded, versions before schema 3). */
  readonly fromPrediction: readonly LandmarkName[] | null;
  readonly points: LandmarkPoints;
  readonly stage: StageSummary | null;
}

export interface ModelRunInfo {
  readonly runId: number;
  readonly modelId: string;
  readonly modelVersion: string;
  readonly modelSha256: string;
  readonly provider: string;
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly confidences: Partial<Record<LandmarkName, number>>;
  readonly minConfidence: number | null;
  readonly quality: unknown;
  readonly createdAt: string;
}

export interface ReviewState {
  readonly status: ReviewStatus;
  readonly by: string | null;
  readonly at: string | null;
}

export interface StudyDetail {
  readonly imageId: number;
  readonly studyId: number;
  readonly sha256: string;
  readonly importedAt: string;
  /** The decoded metadata, with `spacing` = the effective spacing (calibration, else the file's, else null). */
  readonly info: ImageInfo;
  readonly fileSpacing: Spacing | null;
  readonly calibration: Calibration | null;
  readonly latest: LandmarkVersion | null;
  readonly ai: (LandmarkVersion & { readonly modelRun: ModelRunInfo | null }) | null;
  /** Every version, newest first. */
  readonly history: readonly LandmarkVersion[];
  readonly review: ReviewState;
}

// saveLandmarks / revertLandmarks
export const saveLandmarksRequest = s.object({
  imageId,
  /** The version the edit started from (null when the image has none yet); a stale one is a 'conflict'. */
  baseVersionId: s.nullable(s.number({ integer: true, positive: true })),
  landmarks: landmarkPoints,
  moved: s.optional(s.array(s.literal(...LANDMARK_NAMES), LANDMARK_NAMES.length)),
  note: s.optional(s.string({ maxLength: 2000 })),
});
export type SaveLandmarksRequest = Infer<typeof saveLandmarksRequest>;
export interface SavedVersion {
  readonly versionId: number;
  readonly version: number;
  readonly stage: StageSummary;
  readonly review: ReviewState;
}

export const revertLandmarksRequest = s.object({
  imageId,
  toVersionId: s.number({ integer: true, positive: true }),
  baseVersionId: s.optional(s.nullable(s.number({ integer: true, positive: true }))),
});
export type RevertLandmarksRequest = Infer<typeof revertLandmarksRequest>;

// review, calibration, settings
export const setReviewStatusRequest = s.object({
  imageId,
  status: s.literal(...REVIEW_STATUSES),
  /**
   * For an approval the rules mark "check" (core/review/approval.ts): the reasons the user saw and
   * confirmed, recorded in the audit log. Without it such an approval is refused.
   */
  confirmation: s.optional(s.string({ maxLength: 4000 })),
});
export type SetReviewStatusRequest = Infer<typeof setReviewStatusRequest>;

const markedPoint = s.object({ x: s.number(), y: s.number() });
export const setCalibrationRequest = s.object({
  imageId,
  /**
   * null clears the calibration (back to the file's spacing, or none). Otherwise what the user gave; main
   * computes the spacing with core/geometry/calibration (the plausible range, the minimum marked distance
   * and the file's pixel aspect are checked there).
   */
  calibration: s.nullable(
    s.object({
      method: s.literal('entered', 'two-points'),
      /** 'entered': mm per pixel. */
      spacingMm: s.optional(s.number({ positive: true })),
      /** 'two-points': the marked points in image pixels and the distance between them in mm. */
      a: s.optional(markedPoint),
      b: s.optional(markedPoint),
      knownMm: s.optional(s.number({ positive: true })),
    }),
  ),
});
export type SetCalibrationRequest = Infer<typeof setCalibrationRequest>;
export interface CalibrationResponse {
  readonly spacing: Spacing | null;
  readonly calibration: Calibration | null;
  /** The latest version's stage, recomputed with the new spacing. */
  readonly stage: StageSummary | null;
}

// data-set export (the same files as `cvm export`)
export const exportDatasetRequest = s.object({
  format: s.literal('cvm13', 'csv'),
  approvedOnly: s.boolean(),
  /** Absolute path of an existing folder; omitted: the data folder's "exports" folder. */
  folder: s.optional(s.string({ nonEmpty: true, maxLength: 4096 })),
  /** cvm13: copy the images beside the JSON (`<name>-images/`) instead of pointing into the data folder. */
  copyImages: s.optional(s.boolean()),
});
export type ExportDatasetRequest = Infer<typeof exportDatasetRequest>;
export interface ExportDatasetResponse {
  /** The file written. */
  readonly file: string;
  readonly count: number;
}

// patient data entered for studies whose file lacks it (PNG/JPEG)
export const setPatientInfoRequest = s.object({
  imageId,
  /** Age at the study in years (decimal; the UI takes years and months); null clears an entered age. */
  ageYears: s.optional(s.nullable(s.number({ min: 0, max: 120 }))),
  sex: s.optional(s.nullable(s.literal('M', 'F', 'O'))),
});
export type SetPatientInfoRequest = Infer<typeof setPatientInfoRequest>;

export interface Settings {
  readonly userName: string;
}
export const setSettingsRequest = s.object({ userName: s.string({ nonEmpty: true, maxLength: 200 }) });
export type SetSettingsRequest = Infer<typeof setSettingsRequest>;
