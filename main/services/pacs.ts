/**
 * The PACS as use cases for the app: connection setting and test, search, pull with progress events and
 * cancel, send status and sending, automatic sending of approved results, a retry loop for the outbox, and
 * a patient's timeline. Errors reach the renderer as values with one clear sentence.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type {
  IdentityChange,
  ListPatientsRequest,
  MergePatientsRequest,
  PatientListItem,
  SplitPatientRequest,
  ImageIdsRequest,
  PacsPullDone,
  PacsReportPageRequest,
  PacsReportPageResponse,
  PacsSearchRequest,
  PacsSearchResponse,
  PacsSettingsView,
  PacsTestResult,
  SendResponse,
  SetPacsSettingsRequest,
  TimelineResponse,
} from '../../core/api/pacs';
import { fail, ok, type ErrorCode, type Result } from '../../core/api/result';
import type { ReviewState, SetReviewStatusRequest } from '../../core/api/studies';
import { DicomWebClient } from '../pacs/client';
import { PacsError } from '../pacs/http';
import { sendOutbox } from '../pacs/outbox';
import { pullStudies } from '../pacs/pull';
import { PacsRepo } from '../pacs/repo';
import { saveReportPage } from '../pacs/report-page';
import { prepareResults } from '../pacs/results';
import {
  connectionOf,
  hasPacsSecret,
  readPacsSecret,
  readPacsSettings,
  secretStorage,
  writePacsSecret,
  writePacsSettings,
} from '../pacs/settings';
import {
  listPatients,
  mergePatients,
  rejoinStudy,
  splitPatient,
  splitStudyOff,
  timelineOfImage,
  type PatientTimeline,
} from '../pacs/timeline';
import { StoreError } from '../store/errors';
import type { Store } from '../store/store';
import type { RadiographKindView } from '../../core/api/boneage';
import type { OpenedImage } from '../../core/api/image';
import { greyImageOf } from '../inference/index';
import { writeKind } from '../store/boneage';
import { landmarkSecondOpinion } from './analysis';
import { wholeImageModelsFor } from './boneage';
import type { ServiceContext } from './context';
import { fileImporter, storeFor } from './studies';

const PACS_CODES: Record<string, ErrorCode> = {
  'invalid-settings': 'invalid-request',
  unreachable: 'not-found',
  refused: 'not-found',
  timeout: 'not-found',
  tls: 'unsupported',
  unauthorized: 'invalid-request',
  forbidden: 'invalid-request',
  'not-dicomweb': 'unsupported',
  'not-found': 'not-found',
  server: 'internal',
  cancelled: 'cancelled',
  'too-large': 'unsupported',
};

async function guarded<T>(fn: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return ok(await fn());
  } catch (error) {
    if (error instanceof PacsError) return fail(PACS_CODES[error.kind] ?? 'internal', error.message);
    if (error instanceof StoreError) return fail(error.code, error.message);
    throw error;
  }
}

function settingsView(store: Store): PacsSettingsView {
  const s = readPacsSettings(store);
  return { ...s, hasSecret: hasPacsSecret(store), secretStorage: secretStorage() };
}

function clientOf(store: Store): DicomWebClient {
  return new DicomWebClient(connectionOf(readPacsSettings(store), readPacsSecret(store)));
}

function sendStates(store: Store, imageIds: readonly number[], problems: readonly string[] = []): SendResponse {
  const states = new PacsRepo(store).sendStates(imageIds);
  return { states: [...states].map(([imageId, s]) => ({ imageId, ...s })), problems };
}

/**
 * The image classifier for pulls: runs models/radiograph-kind (null without that model) on the pixels the
 * pull decoded for the import (one decode per retrieved file); `recordKind` stores the kind with the imported
 * image, as an import in the app does.
 */
export function pullClassifier(ctx: Pick<ServiceContext, 'dataDir' | 'mode'>): {
  classify: (image: OpenedImage) => Promise<RadiographKindView | null>;
  recordKind: (imageId: number, kind: RadiographKindView) => void;
} {
  return {
    classify: async (image) => {
      const models = wholeImageModelsFor(ctx);
      if (!models.kindModel) return null;
      const r = await models.classifyRadiograph(greyImageOf(image));
      return {
        kind: r.kind,
        uncertain: r.uncertain,
        probabilities: r.probabilities,
        model: { id: r.model.id, version: r.model.version, sha256: r.model.sha256 },
      };
    },
    recordKind: (imageId, kind) => writeKind(storeFor(ctx), imageId, kind),
  };
}

export interface PacsHandlers {
  pacsGetSettings(request: Record<string, never>): Promise<Result<PacsSettingsView>>;
  pacsSetSettings(request: SetPacsSettingsRequest): Promise<Result<PacsSettingsView>>;
  pacsTestConnection(request: Record<string, never>): Promise<Result<PacsTestResult>>;
  pacsSearch(request: PacsSearchRequest): Promise<Result<PacsSearchResponse>>;
  pacsPull(request: { studyUids: string[] }): Promise<Result<{ pullId: string }>>;
  pacsCancelPull(request: { pullId: string }): Promise<Result<{ cancelled: boolean }>>;
  pacsSendStatus(request: ImageIdsRequest): Promise<Result<SendResponse>>;
  pacsSend(request: ImageIdsRequest): Promise<Result<SendResponse>>;
  pacsReportPage(request: PacsReportPageRequest): Promise<Result<PacsReportPageResponse>>;
  patientTimeline(request: { imageId: number }): Promise<Result<TimelineResponse>>;
  listPatients(request: ListPatientsRequest): Promise<Result<{ patients: readonly PatientListItem[] }>>;
  mergePatients(request: MergePatientsRequest): Promise<Result<IdentityChange>>;
  splitPatient(request: SplitPatientRequest): Promise<Result<IdentityChange>>;
  splitStudy(request: { imageId: number }): Promise<Result<IdentityChange>>;
  rejoinStudy(request: { imageId: number }): Promise<Result<IdentityChange>>;
}

const EMPTY_TIMELINE: TimelineResponse = {
  patientId: null,
  patientName: null,
  visits: [],
  peak: null,
  inconsistencies: [],
  merged: [],
  otherIssuers: [],
  splitOff: [],
  splitFrom: null,
};

function timelineView(t: PatientTimeline): TimelineResponse {
  const split = (x: PatientTimeline['splitOff'][number]) => ({
    imageIds: x.imageIds,
    studyDate: x.studyDate,
    by: x.by,
    at: x.at,
  });
  return {
    patientId: t.patient.patientId,
    patientName: t.patient.name,
    visits: t.visits.map((v) => ({
      imageId: v.imageId,
      studyDate: v.studyDate,
      ageYears: v.ageYears,
      stage: v.stage,
      stageLabel: v.stageLabel,
      reviewStatus: v.reviewStatus,
      pPeakPassed: v.pPeakPassed,
      probabilities: v.probabilities as Record<string, number> | null,
      boneAge: v.boneAge,
    })),
    peak: t.peak,
    inconsistencies: t.inconsistencies,
    merged: t.merged.map((m) => m.patientId),
    otherIssuers: t.otherIssuers,
    splitOff: t.splitOff.map(split),
    splitFrom: t.splitFrom
      ? { ...split(t.splitFrom), patientId: t.splitFrom.patientId, patientName: t.splitFrom.patientName }
      : null,
  };
}

const pulls = new Map<string, AbortController>();
const RETRY_INTERVAL_MS = 30_000;
const retryLoops = new Map<string, NodeJS.Timeout>();
let sending: Promise<unknown> = Promise.resolve();

/** Prepares (when asked) and sends results, one send at a time per process; emits the new states. */
function queueSend(ctx: ServiceContext, imageIds: readonly number[] | null, prepare: boolean): Promise<SendResponse> {
  const run = sending.then(async () => {
    startRetryLoop(ctx);
    const store = storeFor(ctx);
    const author = store.userName();
    const problems: string[] = [];
    if (prepare && imageIds) {
      for (const id of imageIds) {
        try {
          const prepared = await prepareResults(store, id, { author, appVersion: ctx.appVersion });
          if (prepared.scMissing) problems.push(`Image ${id}: ${prepared.scMissing}`);
        } catch (error) {
          if (error instanceof StoreError) problems.push(error.message);
          else throw error;
        }
      }
    }
    const settings = readPacsSettings(store);
    if (settings.url) {
      try {
        await sendOutbox(store, clientOf(store), { author, ...(imageIds ? { imageIds } : {}), ignoreBackoff: prepare });
      } catch (error) {
        if (error instanceof PacsError) problems.push(error.message);
        else throw error;
      }
    } else if (prepare) {
      problems.push('No PACS is configured: the results are queued and will be sent once one is set.');
    }
    const ids = imageIds ?? new PacsRepo(store).unsent().map((r) => r.image_ref);
    const response = sendStates(store, ids, problems);
    ctx.emit('pacsSendChanged', response);
    return response;
  });
  sending = run.catch(() => undefined);
  return run;
}

/**
 * Every 30 s, sends what is due in the outbox (after a failure, items wait for their backoff). Started only
 * once a PACS is configured, and idle when the data folder is gone (a closed test session).
 */
function startRetryLoop(ctx: ServiceContext): void {
  if (retryLoops.has(ctx.dataDir)) return;
  const timer = setInterval(() => {
    if (!existsSync(ctx.dataDir)) return;
    try {
      const store = storeFor(ctx);
      if (!readPacsSettings(store).url || new PacsRepo(store).due().length === 0) return;
    } catch {
      return;
    }
    void queueSend(ctx, null, false).catch((error: unknown) =>
      ctx.emit('log', { level: 'warn', message: `Sending to the PACS failed: ${(error as Error).message}` }),
    );
  }, RETRY_INTERVAL_MS);
  timer.unref();
  retryLoops.set(ctx.dataDir, timer);
}

export function stopPacsLoops(): void {
  for (const t of retryLoops.values()) clearInterval(t);
  retryLoops.clear();
  for (const t of awaitingPage.values()) clearTimeout(t);
  awaitingPage.clear();
  for (const c of pulls.values()) c.abort();
}

/**
 * How long an approval's automatic send waits for the app's report page (the Secondary Capture's pixels):
 * the app draws it right after approving; without it the SR goes alone and the SC follows with the page.
 */
export const REPORT_PAGE_WAIT_MS = 20_000;
const awaitingPage = new Map<string, NodeJS.Timeout>();
const pageKey = (ctx: ServiceContext, imageId: number): string => `${ctx.dataDir}\n${imageId}`;

/** Whether an approved result of this image is sent automatically now. */
function autoSends(store: Store, imageId: number): boolean {
  const settings = readPacsSettings(store);
  return Boolean(settings.url && settings.autoSendApproved) && store.imageRow(imageId).format === 'dicom';
}

function sendInBackground(ctx: ServiceContext, imageId: number): void {
  void queueSend(ctx, [imageId], true).catch((error: unknown) =>
    ctx.emit('log', {
      level: 'warn',
      message: `The approved result could not be sent to the PACS: ${(error as Error).message}`,
    }),
  );
}

/**
 * Wraps setReviewStatus: an approval, with automatic sending on, sends the result (SR and the report page as
 * a Secondary Capture) once the app hands over the page it draws (pacsReportPage), or after REPORT_PAGE_WAIT_MS
 * without it.
 */
export function withAutoSend(
  ctx: ServiceContext,
  setReviewStatus: (request: SetReviewStatusRequest) => Promise<Result<ReviewState>>,
  waitMs = REPORT_PAGE_WAIT_MS,
): (request: SetReviewStatusRequest) => Promise<Result<ReviewState>> {
  return async (request) => {
    const result = await setReviewStatus(request);
    if (result.ok && request.status === 'approved') {
      try {
        if (autoSends(storeFor(ctx), request.imageId)) {
          const key = pageKey(ctx, request.imageId);
          clearTimeout(awaitingPage.get(key));
          const timer = setTimeout(() => {
            awaitingPage.delete(key);
            sendInBackground(ctx, request.imageId);
          }, waitMs);
          timer.unref();
          awaitingPage.set(key, timer);
        }
      } catch (error) {
        ctx.emit('log', { level: 'warn', message: `Automatic sending skipped: ${(error as Error).message}` });
      }
    }
    return result;
  };
}

export function pacsHandlers(ctx: ServiceContext): PacsHandlers {
  const store = (): Store => storeFor(ctx);
  return {
    pacsGetSettings: () =>
      guarded(() => {
        const view = settingsView(store());
        if (view.url) startRetryLoop(ctx);
        return view;
      }),
    pacsSetSettings: (request) =>
      guarded(() => {
        const s = store();
        const { secret, ...settings } = request;
        writePacsSettings(s, settings, s.userName());
        if (secret !== undefined) writePacsSecret(s, secret);
        if (settings.authKind === 'none') writePacsSecret(s, null);
        if (settings.url) startRetryLoop(ctx);
        return settingsView(s);
      }),
    pacsTestConnection: () =>
      guarded(async () => {
        try {
          const r = await clientOf(store()).testConnection();
          return { ok: true as const, url: r.url, ms: r.ms };
        } catch (error) {
          if (error instanceof PacsError) return { ok: false as const, kind: error.kind, message: error.message };
          throw error;
        }
      }),
    pacsSearch: (request) =>
      guarded(async () => {
        const s = store();
        const start = performance.now();
        // One row more than asked tells whether "Load more" would find anything, without another request.
        const got = await clientOf(s).searchStudies(request, { offset: request.offset, limit: request.limit + 1 });
        const rows = got.slice(0, request.limit);
        // Instances already here, for every listed study in one indexed query (migration 10).
        const local = new PacsRepo(s).localInstanceCounts(rows.map((r) => r.studyInstanceUid));
        return {
          rows: rows.map((r) => ({
            studyInstanceUid: r.studyInstanceUid,
            patientId: r.patientId,
            issuerOfPatientId: r.issuerOfPatientId,
            patientName: r.patientName,
            birthDate: r.birthDate,
            sex: r.sex,
            studyDate: r.studyDate,
            description: r.description,
            modalities: r.modalities,
            instances: r.instances,
            localInstances: local.get(r.studyInstanceUid) ?? 0,
          })),
          more: got.length > request.limit,
          ms: Math.round(performance.now() - start),
        };
      }),
    pacsPull: (request) =>
      guarded(() => {
        const s = store();
        const client = clientOf(s);
        const pullId = randomUUID();
        const controller = new AbortController();
        pulls.set(pullId, controller);
        void pullStudies(s, client, request.studyUids, {
          importer: fileImporter,
          ...pullClassifier(ctx),
          ...landmarkSecondOpinion(ctx),
          author: s.userName(),
          signal: controller.signal,
          onProgress: (p) =>
            ctx.emit('pacsPullProgress', { pullId, done: p.done, total: p.total, bytes: p.bytes, current: p.current }),
        })
          .then(
            (report) => {
              const instances = report.studies.flatMap((st) => st.instances);
              const done: PacsPullDone = {
                pullId,
                cancelled: report.cancelled,
                retrieved: report.retrieved,
                alreadyPresent: report.alreadyPresent,
                skipped: report.skipped,
                failed: report.failed,
                imageIds: instances.flatMap((i) => ('imageId' in i ? [i.imageId] : [])),
                boneAge: instances.flatMap((i) => ('route' in i && i.route === 'boneage' ? [i.imageId] : [])),
                problems: [
                  ...report.studies.flatMap((st) => (st.error ? [st.error] : [])),
                  ...instances.flatMap((i) =>
                    i.outcome === 'skipped'
                      ? [`skipped ${i.sopInstanceUid}: ${i.reason}`]
                      : i.outcome === 'failed'
                        ? [`failed ${i.sopInstanceUid}: ${i.reason}`]
                        : [],
                  ),
                ],
              };
              ctx.emit('pacsPullDone', done);
            },
            (error: unknown) => {
              ctx.emit('pacsPullDone', {
                pullId,
                cancelled: false,
                retrieved: 0,
                alreadyPresent: 0,
                skipped: 0,
                failed: 1,
                imageIds: [],
                problems: [(error as Error).message],
              });
            },
          )
          .finally(() => pulls.delete(pullId));
        return { pullId };
      }),
    pacsCancelPull: (request) =>
      guarded(() => {
        const c = pulls.get(request.pullId);
        if (!c)
          throw new StoreError('not-found', 'not-found', `No running pull ${request.pullId} (it may have finished).`);
        c.abort();
        return { cancelled: true };
      }),
    pacsSendStatus: (request) => guarded(() => sendStates(store(), request.imageIds)),
    pacsSend: (request) => guarded(() => queueSend(ctx, request.imageIds, true)),
    pacsReportPage: (request) =>
      guarded(() => {
        const s = store();
        // Only with a PACS to send it to: a page is a few hundred kB, one per approved study.
        if (!readPacsSettings(s).url) return { kept: false, width: 0, height: 0, sending: false };
        const page = saveReportPage(s, request, s.userName());
        // An approved result waiting for its page (or approved earlier, its SC not yet queued) goes now.
        const waiting = awaitingPage.get(pageKey(ctx, request.imageId));
        const queued = request.reviewStatus === 'approved' && autoSends(s, request.imageId);
        if (queued) {
          clearTimeout(waiting);
          awaitingPage.delete(pageKey(ctx, request.imageId));
          sendInBackground(ctx, request.imageId);
        }
        return { kept: true, width: page.width, height: page.height, sending: queued };
      }),
    patientTimeline: (request) =>
      guarded(() => {
        const t = timelineOfImage(store(), request.imageId);
        return t ? timelineView(t) : EMPTY_TIMELINE;
      }),
    listPatients: (request) =>
      guarded(() => ({
        patients: listPatients(store(), request.search.trim(), request.limit).map((p) => ({
          patientId: p.patientId,
          name: p.name,
          birthDate: p.birthDate,
          sex: p.sex,
          studies: p.studies,
          mergedInto: p.mergedInto,
          imageId: p.imageId,
        })),
      })),
    mergePatients: (request) =>
      guarded(() => {
        const s = store();
        mergePatients(s, request.patientId, request.otherPatientId, s.userName());
        return {
          message: `Patient ${request.otherPatientId} is now shown as the same person as ${request.patientId}.`,
        };
      }),
    splitPatient: (request) =>
      guarded(() => {
        const s = store();
        splitPatient(s, request.patientId, s.userName());
        return { message: `Patient ${request.patientId} has its own timeline again.` };
      }),
    splitStudy: (request) =>
      guarded(() => {
        const s = store();
        const split = splitStudyOff(s, request.imageId, s.userName());
        return {
          message: `The study of ${split.studyDate ?? 'unknown date'} is no longer shown as this patient's; it stands alone.`,
        };
      }),
    rejoinStudy: (request) =>
      guarded(() => {
        const s = store();
        rejoinStudy(s, request.imageId, s.userName());
        return { message: 'The study is back on its patient’s timeline.' };
      }),
  };
}
