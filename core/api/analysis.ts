/** What main tells the renderer (and the CLI prints) about an automatic analysis. */
import type { AnatomyInput, LandmarkIssue, Orientation, QualityVerdict } from '../inference/index';
import type { LandmarkName } from '../landmarks/index';
import type { Assessment } from '../cvm/types';
import type { Spacing } from './image';
import { s, type Infer } from './schema';

/** The model that produced a prediction; stored with every AI landmark set. */
export interface ModelRef {
  readonly id: string;
  readonly version: string;
  /** sha256 of manifest.json (which holds the sha256 of each ONNX file). */
  readonly manifestSha256: string;
  readonly locateSha256: string;
  readonly refineSha256: string;
}

export interface ProviderInfo {
  /** The execution provider that ran. */
  readonly used: 'cuda' | 'dml' | 'cpu';
  readonly requested: readonly string[];
  /** ORT's own names of the providers that ran nodes, e.g. ["CPUExecutionProvider"]. */
  readonly placement: readonly string[];
  /** Why a faster provider was not used; null when the first choice ran. */
  readonly fallbackReason: string | null;
}

export interface PredictedLandmark {
  readonly name: LandmarkName;
  /** Image pixels (centre of pixel (i, j) at (i, j)). */
  readonly x: number;
  readonly y: number;
  /** Stage-2 heatmap peak value (internal: not shown to users; expectedErrorMm is). */
  readonly confidence: number;
  /**
   * Expected radial error of this landmark in mm, calibrated on cross-validation (docs/inference.md);
   * null for a model without decoding.json. The staging uncertainty and the UI use this.
   */
  readonly expectedErrorMm: number | null;
  /** Position found by stage 1 (whole image), image pixels. */
  readonly stage1: { readonly x: number; readonly y: number };
  /** Empty when the landmark looks reliable. */
  readonly issues: readonly LandmarkIssue[];
}

/** The mm per pixel used to cut the stage-2 region: the image's spacing, or an estimate. */
export interface RoiScale {
  readonly mmPerPixelX: number;
  readonly mmPerPixelY: number;
  readonly estimated: boolean;
  readonly detail: string;
}

/** Whether the image was recognised as a lateral cephalogram (face/vertebrae found in some orientation). */
export interface Recognition {
  readonly lateralCephalogram: boolean;
  /** Why not, in plain words; null when recognised. */
  readonly reason: string | null;
  /**
   * Not recognised, but the radiograph-kind model is sure (this probability) that the image is a cephalogram: the
   * C2-C4 column was not found (hidden, cut off, or unlike those the landmark model learnt), rather than no
   * cephalogram. Absent otherwise.
   */
  readonly cephalogramByKind?: number;
}

export interface OrientationTrial {
  readonly orientation: Orientation;
  /** A small turn (degrees clockwise) of the image as stored under which stage 1 looked; absent: none. */
  readonly turnDeg?: number;
  /** Mean stage-1 heatmap peak and shape check of the stage-1 landmarks in that orientation. */
  readonly meanPeak: number;
  readonly shapeDistance: number;
  readonly tiltDeg: number;
  readonly plausible: boolean;
}

/** How the image was turned for the model; landmarks are always in the stored image's pixels. */
export interface OrientationResult extends Orientation {
  /** True when the stored image was not upright facing right and was turned for the model. */
  readonly corrected: boolean;
  /**
   * The small turn (degrees clockwise) under which the C2-C4 column was found: stage 1 looked at the image
   * turned by it and the stage-2 crop was turned with it. Absent or 0: none (results stored before it existed).
   */
  readonly turnDeg?: number;
  readonly detail: string;
  readonly tried: readonly OrientationTrial[];
}

/** The shape-model check of the chosen landmark configuration. */
export type AnatomyCheck = AnatomyInput;

export interface PredictionTimings {
  readonly preprocessMs: number;
  readonly locateMs: number;
  /** Stage 1 on the other orientations (0 when the image was upright as stored). */
  readonly orientationMs?: number;
  readonly cropMs: number;
  readonly refineMs: number;
  readonly postprocessMs: number;
  /** In the worker, from pixels received to landmarks sent. */
  readonly totalMs: number;
}

export interface Prediction {
  readonly model: ModelRef;
  readonly provider: ProviderInfo;
  readonly imageWidth: number;
  readonly imageHeight: number;
  readonly landmarks: readonly PredictedLandmark[];
  readonly roiScale: RoiScale;
  readonly quality: {
    readonly verdict: QualityVerdict;
    readonly problems: readonly string[];
  };
  readonly recognition: Recognition;
  readonly orientation: OrientationResult;
  readonly anatomy: AnatomyCheck | null;
  readonly timings: PredictionTimings;
}

export interface AnalysisTimings {
  readonly decodeMs: number | null;
  /** Main side, queueing and transfer included. */
  readonly inferenceMs: number;
  readonly stagingMs: number;
  readonly totalMs: number;
}

export interface AnalysisResult {
  /** The stored image, when the analysis ran on one. */
  readonly imageId: number | null;
  readonly fileName: string;
  /** The spacing measurements use; null: uncalibrated, lengths in px. */
  readonly spacing: Spacing | null;
  readonly prediction: Prediction;
  /** Staging of the predicted landmarks by core/cvm. */
  readonly assessment: Assessment;
  /**
   * False when the quality gate found a problem or staging failed: the stage must not be shown as
   * certain. `summary` says why in one line.
   */
  readonly stageCertain: boolean;
  readonly summary: string;
  /** What the decoder said about the file (damaged data, unusable values), as ImageInfo.warnings; absent: nothing. */
  readonly fileWarnings?: readonly string[];
  readonly timings: AnalysisTimings;
  /** The AI landmark version recorded for the stored image, when one was recorded. */
  readonly recorded: { readonly runId: number; readonly versionId: number; readonly version: number } | null;
}

const imageId = s.number({ integer: true, positive: true });
/** Largest analyzeBatch: a day's clinic many times over; more is split by the caller (docs/security.md). */
export const MAX_BATCH_IMAGES = 10_000;
const modelId = s.optional(s.string({ nonEmpty: true, maxLength: 200 }));

export const analyzeImageRequest = s.object({
  imageId,
  modelId,
});
export type AnalyzeImageRequest = Infer<typeof analyzeImageRequest>;

export const analyzeBatchRequest = s.object({
  imageIds: s.array(imageId, MAX_BATCH_IMAGES),
  modelId,
});
export type AnalyzeBatchRequest = Infer<typeof analyzeBatchRequest>;

export interface BatchStarted {
  readonly batchId: string;
  readonly total: number;
}

export const cancelBatchRequest = s.object({ batchId: s.string({ nonEmpty: true, maxLength: 200 }) });
export type CancelBatchRequest = Infer<typeof cancelBatchRequest>;

export interface ModelSummary {
  readonly id: string;
  readonly version: string;
  readonly source: 'app' | 'user';
  readonly isDefault: boolean;
}

export interface ModelsInfo {
  readonly models: readonly ModelSummary[];
  /** Folders holding a manifest that was refused, with the reason. */
  readonly refused: readonly { readonly dir: string; readonly reason: string }[];
}

/** Event payloads of a batch (see Events in contract.ts). */
export interface BatchProgress {
  readonly batchId: string;
  readonly done: number;
  readonly total: number;
  readonly failed: number;
  /** The file being analysed now; null between items. */
  readonly current: string | null;
  /** Estimated time left from the mean time per image so far; null before the first one ends. */
  readonly etaMs: number | null;
}

export interface BatchItemOutcome {
  readonly imageId: number;
  readonly fileName: string;
  readonly ok: boolean;
  /** Stage and certainty in one line, or the error. */
  readonly summary: string;
}

export interface BatchFinished {
  readonly batchId: string;
  readonly cancelled: boolean;
  readonly done: number;
  readonly total: number;
  readonly items: readonly BatchItemOutcome[];
  readonly elapsedMs: number;
}
