/**
 * The one contract between renderer and main. Each method has a request schema (validated by main for
 * every message) and a response type; the preload client and the main dispatcher are both derived from
 * this table, so a method is declared exactly once.
 */
import type { Result } from './result';
import { s, type Schema } from './schema';
import type { OpenedImage } from './image';
import {
  imageRequest,
  importFilesRequest,
  listStudiesRequest,
  revertLandmarksRequest,
  saveLandmarksRequest,
  setCalibrationRequest,
  exportDatasetRequest,
  setPatientInfoRequest,
  setReviewStatusRequest,
  setSettingsRequest,
  type CalibrationResponse,
  type ImageRequest,
  type ImportFilesRequest,
  type ImportFilesResponse,
  type ListStudiesRequest,
  type ListStudiesResponse,
  type ReviewState,
  type RevertLandmarksRequest,
  type SaveLandmarksRequest,
  type SavedVersion,
  type ExportDatasetRequest,
  type ExportDatasetResponse,
  type SetCalibrationRequest,
  type SetPatientInfoRequest,
  type SetReviewStatusRequest,
  type SetSettingsRequest,
  type Settings,
  type StudyDetail,
} from './studies';
import {
  analyzeBatchRequest,
  analyzeImageRequest,
  cancelBatchRequest,
  type AnalysisResult,
  type AnalyzeBatchRequest,
  type AnalyzeImageRequest,
  type BatchFinished,
  type BatchProgress,
  type BatchStarted,
  type CancelBatchRequest,
  type ModelsInfo,
} from './analysis';
import {
  imageIdsRequest,
  pacsCancelRequest,
  pacsPullRequest,
  pacsReportPageRequest,
  pacsSearchRequest,
  setPacsSettingsRequest,
  timelineRequest,
  listPatientsRequest,
  mergePatientsRequest,
  splitPatientRequest,
  type IdentityChange,
  type ListPatientsRequest,
  type MergePatientsRequest,
  type PatientListItem,
  type SplitPatientRequest,
  type ImageIdsRequest,
  type PacsCancelRequest,
  type PacsPullDone,
  type PacsPullProgress,
  type PacsPullRequest,
  type PacsReportPageRequest,
  type PacsReportPageResponse,
  type PacsSearchRequest,
  type PacsSearchResponse,
  type PacsSettingsView,
  type PacsTestResult,
  type SendResponse,
  type SetPacsSettingsRequest,
  type TimelineRequest,
  type TimelineResponse,
} from './pacs';
import {
  boneAgeRequest,
  setPatientSexRequest,
  type BoneAgeRequest,
  type BoneAgeView,
  type SetPatientSexRequest,
} from './boneage';

export interface MethodSpec<Req, Res> {
  readonly request: Schema<Req>;
  readonly _response?: Res;
}

const method = <Req, Res>(request: Schema<Req>): MethodSpec<Req, Res> => ({ request });

export interface AppInfo {
  readonly version: string;
  readonly mode: 'electron' | 'web';
  readonly dataDir: string;
}

export const methods = {
  appInfo: method<Record<string, never>, AppInfo>(s.object({})),
  // stored studies (main/services/studies.ts)
  importFiles: method<ImportFilesRequest, ImportFilesResponse>(importFilesRequest),
  listStudies: method<ListStudiesRequest, ListStudiesResponse>(listStudiesRequest),
  loadStudy: method<ImageRequest, StudyDetail>(imageRequest),
  loadImagePixels: method<ImageRequest, OpenedImage>(imageRequest),
  saveLandmarks: method<SaveLandmarksRequest, SavedVersion>(saveLandmarksRequest),
  revertLandmarks: method<RevertLandmarksRequest, SavedVersion>(revertLandmarksRequest),
  setReviewStatus: method<SetReviewStatusRequest, ReviewState>(setReviewStatusRequest),
  setCalibration: method<SetCalibrationRequest, CalibrationResponse>(setCalibrationRequest),
  setPatientInfo: method<SetPatientInfoRequest, StudyDetail>(setPatientInfoRequest),
  exportDataset: method<ExportDatasetRequest, ExportDatasetResponse>(exportDatasetRequest),
  getSettings: method<Record<string, never>, Settings>(s.object({})),
  setSettings: method<SetSettingsRequest, Settings>(setSettingsRequest),
  // automatic analysis (main/services/analysis.ts)
  analyzeImage: method<AnalyzeImageRequest, AnalysisResult>(analyzeImageRequest),
  analyzeBatch: method<AnalyzeBatchRequest, BatchStarted>(analyzeBatchRequest),
  cancelBatch: method<CancelBatchRequest, { cancelled: boolean }>(cancelBatchRequest),
  listModels: method<Record<string, never>, ModelsInfo>(s.object({})),
  // the clinic's PACS and growth across visits (main/services/pacs.ts)
  pacsGetSettings: method<Record<string, never>, PacsSettingsView>(s.object({})),
  pacsSetSettings: method<SetPacsSettingsRequest, PacsSettingsView>(setPacsSettingsRequest),
  pacsTestConnection: method<Record<string, never>, PacsTestResult>(s.object({})),
  pacsSearch: method<PacsSearchRequest, PacsSearchResponse>(pacsSearchRequest),
  pacsPull: method<PacsPullRequest, { pullId: string }>(pacsPullRequest),
  pacsCancelPull: method<PacsCancelRequest, { cancelled: boolean }>(pacsCancelRequest),
  pacsSendStatus: method<ImageIdsRequest, SendResponse>(imageIdsRequest),
  pacsSend: method<ImageIdsRequest, SendResponse>(imageIdsRequest),
  pacsReportPage: method<PacsReportPageRequest, PacsReportPageResponse>(pacsReportPageRequest),
  patientTimeline: method<TimelineRequest, TimelineResponse>(timelineRequest),
  listPatients: method<ListPatientsRequest, { patients: readonly PatientListItem[] }>(listPatientsRequest),
  mergePatients: method<MergePatientsRequest, IdentityChange>(mergePatientsRequest),
  splitPatient: method<SplitPatientRequest, IdentityChange>(splitPatientRequest),
  splitStudy: method<TimelineRequest, IdentityChange>(timelineRequest),
  rejoinStudy: method<TimelineRequest, IdentityChange>(timelineRequest),
  // hand-wrist radiographs (main/services/boneage.ts)
  getBoneAge: method<BoneAgeRequest, BoneAgeView>(boneAgeRequest),
  estimateBoneAge: method<BoneAgeRequest, BoneAgeView>(boneAgeRequest),
  setPatientSex: method<SetPatientSexRequest, BoneAgeView>(setPatientSexRequest),
};

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type RequestOf<K extends MethodName> = Methods[K] extends MethodSpec<infer Req, unknown> ? Req : never;
export type ResponseOf<K extends MethodName> = Methods[K] extends MethodSpec<unknown, infer Res> ? Res : never;

/** Pushed from main to the renderer. */
export interface Events {
  /** A message main wants the user to see (e.g. the inference worker restarted). */
  log: { level: 'info' | 'warn' | 'error'; message: string };
  /** After each file of an importFiles call. */
  importProgress: { done: number; total: number; fileName: string };
  /** During an exportDataset: landmark sets written so far. */
  exportProgress: { done: number; total: number };
  /** Before each image of an analyzeBatch and once at the end (current null). */
  analysisBatchProgress: BatchProgress;
  /** When an analyzeBatch has finished or was cancelled. */
  analysisBatchDone: BatchFinished;
  /** During a pacsPull, before each instance and at the end of each study. */
  pacsPullProgress: PacsPullProgress;
  pacsPullDone: PacsPullDone;
  /** After results were sent (or failed to be) to the PACS, automatically or on demand. */
  pacsSendChanged: SendResponse;
}
export type EventName = keyof Events;

export type CvmApi = {
  readonly [K in MethodName]: (request: RequestOf<K>) => Promise<Result<ResponseOf<K>>>;
} & {
  onEvent<E extends EventName>(name: E, handler: (payload: Events[E]) => void): () => void;
};

export const METHOD_NAMES = Object.keys(methods) as MethodName[];
export const channelOf = (name: MethodName): string => `cvm:${name}`;
export const EVENT_CHANNEL = 'cvm:event';
