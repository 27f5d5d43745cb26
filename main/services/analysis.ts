/**
 * Automatic analysis as use cases for the app: analyse a stored image (load pixels and effective spacing,
 * run the pipeline, record the model run and its AI landmark version), analyse many with progress events
 * and cancel, list the models. One warm engine per model, shared by every window of the process.
 */
import { randomUUID } from 'node:crypto';
import type {
  AnalysisResult,
  AnalyzeBatchRequest,
  AnalyzeImageRequest,
  BatchFinished,
  BatchItemOutcome,
  BatchProgress,
  BatchStarted,
  CancelBatchRequest,
  ModelsInfo,
} from '../../core/api/analysis';
import type { OpenedImage } from '../../core/api/image';
import { fail, ok, type ErrorCode, type Result } from '../../core/api/result';
import { fromLandmarkSet } from '../../core/api/studies';
import {
  analyzeOpened,
  DEFAULT_MODEL_ID,
  findModels,
  InferenceEngine,
  landmarkSetOf,
  modelDirs,
  pickModel,
  runBatch,
} from '../inference/index';
import type { ServiceContext } from './context';
import { decodeParallelism, loadImagePixels, prefetchImagePixels, recordModelRun, storeFor } from './studies';
import { kindOfImage } from './boneage';
import { analyzeOpenedImage, findsCephalogram } from './landmark-analysis';

// ---- warm engines --------------------------------------------------------------------------------------------

const engines = new Map<string, { readonly manifestSha256: string; readonly engine: Promise<InferenceEngine> }>();

/**
 * The warm engine for a model (default: the registry's default), started on first use. The model folder is
 * checked again on each call (sha256 of its files), so a replaced model gets a new engine and the old one
 * is stopped.
 */
export function engineFor(ctx: Pick<ServiceContext, 'dataDir' | 'emit'>, modelId?: string): Promise<InferenceEngine> {
  const model = pickModel(findModels(modelDirs(ctx.dataDir)), modelId);
  const current = engines.get(model.dir);
  if (current && current.manifestSha256 === model.manifestSha256) return current.engine;
  if (current)
    void current.engine.then(
      (e) => e.close(),
      () => undefined,
    );
  const engine = InferenceEngine.start({
    model,
    onEvent: (event) => {
      if (event.kind === 'worker-crashed') {
        ctx.emit('log', { level: 'error', message: `The inference worker crashed (${event.message}); restarting it.` });
      } else {
        ctx.emit('log', {
          level: 'info',
          message: `The inference worker was restarted (${event.createMs.toFixed(0)} ms).`,
        });
      }
    },
  });
  engines.set(model.dir, { manifestSha256: model.manifestSha256, engine });
  engine.catch(() => {
    if (engines.get(model.dir)?.engine === engine) engines.delete(model.dir);
  });
  return engine;
}

/** The landmark model's look at an image another model judged: whether it finds a plausible C2-C4 column. */
export interface LandmarkSecondOpinion {
  findsColumn(image: OpenedImage): Promise<boolean>;
}

/**
 * The landmark model's second opinion on an image the radiograph-kind model took for a hand or for neither a hand
 * nor a cephalogram: runs the landmark pipeline (the data folder's warm engine) and says whether it finds a
 * plausible C2-C4 column (findsCephalogram, as the analysis overrules a kind verdict). Pulls (PullOptions.findsColumn)
 * look in every orientation; before a bone age it looks at the image as stored ('as-stored': one stage-1 run on a
 * hand, where the search of every orientation and turn cost 0.34 s a hand). An engine that cannot start or run
 * leaves the kind model's verdict standing.
 */
export function landmarkSecondOpinion(
  ctx: Pick<ServiceContext, 'dataDir' | 'emit'>,
  look: 'auto' | 'as-stored' = 'auto',
): LandmarkSecondOpinion {
  return {
    findsColumn: async (image) => {
      try {
        return findsCephalogram(await analyzeOpened(await engineFor(ctx), image, { orientation: look }));
      } catch {
        return false;
      }
    },
  };
}

/** Stops every engine's worker (on quit). */
export async function closeInferenceEngines(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  await Promise.all(
    all.map((e) =>
      e.engine.then(
        (engine) => engine.close(),
        () => undefined,
      ),
    ),
  );
}

// ---- errors as values ----------------------------------------------------------------------------------------

const API_CODES: readonly string[] = [
  'not-found',
  'unsupported',
  'corrupt-file',
  'no-spacing',
  'model-invalid',
  'inference-failed',
  'storage',
  'conflict',
  'cancelled',
] satisfies ErrorCode[];

/** Errors of the store, the decoder and the engine carry an ApiError code; anything else is unexpected. */
function asFailure(error: unknown): { code: ErrorCode; message: string } {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && API_CODES.includes(error.code)) {
    return { code: error.code as ErrorCode, message: error.message };
  }
  throw error;
}

// ---- one image -----------------------------------------------------------------------------------------------

async function analyzeStored(ctx: ServiceContext, imageId: number, modelId?: string): Promise<AnalysisResult> {
  const store = storeFor(ctx);
  const decodeStart = performance.now();
  const opened = await loadImagePixels(store, imageId);
  const decodeMs = performance.now() - decodeStart;
  // The same path as `cvm analyze` (./landmark-analysis.ts); a hand-wrist radiograph is refused by its stored kind.
  const used: { engine?: InferenceEngine } = {};
  const result = await analyzeOpenedImage(async () => (used.engine = await engineFor(ctx, modelId)), opened, {
    imageId,
    decodeMs,
    kindOf: () => kindOfImage(ctx, imageId, opened),
    // The landmark model found a cephalogram where the kind model saw a hand or something else: the stored kind
    // follows, as a cephalogram the classifier was unsure of, so the study view shows the CVM panels, approval
    // asks to confirm instead of refusing, and the check says why.
    onKindOverruled: async () => {
      const kind = await kindOfImage(ctx, imageId, opened);
      if (kind) await store.writeKindOffThread(imageId, { ...kind, kind: 'cephalogram', uncertain: true });
    },
  });
  const { prediction } = result;
  // Not a lateral cephalogram: nothing to record as AI landmarks (none are drawn); the result says why.
  if (!prediction.recognition.lateralCephalogram) return result;
  const confidences = Object.fromEntries(prediction.landmarks.map((l) => [l.name, l.confidence]));
  const recorded = await recordModelRun(ctx, imageId, {
    modelId: prediction.model.id,
    modelVersion: prediction.model.version,
    modelSha256: prediction.model.manifestSha256,
    provider: prediction.provider.used,
    timingsMs: { ...prediction.timings, decodeMs, stagingMs: result.timings.stagingMs },
    landmarks: fromLandmarkSet(landmarkSetOf(prediction)),
    confidences,
    quality: {
      verdict: prediction.quality.verdict,
      problems: prediction.quality.problems,
      stageCertain: result.stageCertain,
      summary: result.summary,
      issues: Object.fromEntries(
        prediction.landmarks.filter((l) => l.issues.length > 0).map((l) => [l.name, l.issues]),
      ),
      // Calibrated expected error per landmark (mm): what the UI colours and flags by (renderer/canvas/confidence.ts),
      // and what the renderer folds into the stage probabilities while the points are unmoved.
      flagMm: used.engine?.model.decoding?.expectedError.flagMm ?? null,
      expectedErrorMm: Object.fromEntries(
        prediction.landmarks.filter((l) => l.expectedErrorMm !== null).map((l) => [l.name, l.expectedErrorMm]),
      ),
      orientation: {
        rotate: prediction.orientation.rotate,
        mirror: prediction.orientation.mirror,
        corrected: prediction.orientation.corrected,
        detail: prediction.orientation.detail,
      },
      anatomy: prediction.anatomy,
      roiScale: prediction.roiScale,
      providerFallback: prediction.provider.fallbackReason,
      model: prediction.model,
      // Read by the approval rules (core/review/approval.ts): not a lateral cephalogram, the shape model's verdict.
      recognition: prediction.recognition,
    },
  });
  if (!recorded.ok) throw Object.assign(new Error(recorded.error.message), { code: recorded.error.code });
  const { runId, versionId, version } = recorded.value;
  return { ...result, recorded: { runId, versionId, version } };
}

// ---- batches -------------------------------------------------------------------------------------------------

const batches = new Map<string, AbortController>();

function startBatch(ctx: ServiceContext, request: AnalyzeBatchRequest): BatchStarted {
  const batchId = randomUUID();
  const controller = new AbortController();
  batches.set(batchId, controller);
  const imageIds = [...new Set(request.imageIds)];
  const total = imageIds.length;
  const nameOf = (imageId: number): string => {
    try {
      return storeFor(ctx).imageRow(imageId).original_name;
    } catch {
      return `image #${imageId}`;
    }
  };
  const items: BatchItemOutcome[] = [];
  void runBatch(
    imageIds,
    (id) => `${id}`,
    (id) => {
      // The next images' pixels load (in the decoder workers) while this one is analysed.
      const at = imageIds.indexOf(id);
      const ahead = Math.max(1, decodeParallelism() - 1);
      if (!controller.signal.aborted) {
        try {
          prefetchImagePixels(storeFor(ctx), imageIds.slice(at + 1, at + 1 + ahead));
        } catch {
          // the store cannot be opened: analyzeStored says so for this image
        }
      }
      return analyzeStored(ctx, id, request.modelId);
    },
    {
      signal: controller.signal,
      onProgress: (p) => {
        const payload: BatchProgress = {
          batchId,
          done: p.done,
          total,
          failed: p.failed,
          current: p.current === null ? null : nameOf(Number(p.current)),
          etaMs: p.etaMs,
        };
        ctx.emit('analysisBatchProgress', payload);
      },
      onItem: (r) => {
        const imageId = Number(r.label);
        items.push(
          r.ok
            ? { imageId, fileName: r.value.fileName, ok: true, summary: r.value.summary }
            : { imageId, fileName: nameOf(imageId), ok: false, summary: r.error.message },
        );
      },
    },
  ).then((outcome) => {
    batches.delete(batchId);
    const done: BatchFinished = {
      batchId,
      cancelled: outcome.cancelled,
      done: outcome.items.length,
      total,
      items,
      elapsedMs: outcome.elapsedMs,
    };
    ctx.emit('analysisBatchDone', done);
  });
  return { batchId, total };
}

// ---- renderer-facing handlers --------------------------------------------------------------------------------

export interface AnalysisHandlers {
  analyzeImage(request: AnalyzeImageRequest): Promise<Result<AnalysisResult>>;
  analyzeBatch(request: AnalyzeBatchRequest): Promise<Result<BatchStarted>>;
  cancelBatch(request: CancelBatchRequest): Promise<Result<{ cancelled: boolean }>>;
  listModels(request: Record<string, never>): Promise<Result<ModelsInfo>>;
}

export function analysisHandlers(ctx: ServiceContext): AnalysisHandlers {
  return {
    analyzeImage: async (request) => {
      try {
        return ok(await analyzeStored(ctx, request.imageId, request.modelId));
      } catch (error) {
        const f = asFailure(error);
        return fail(f.code, f.message);
      }
    },
    analyzeBatch: async (request) => {
      try {
        pickModel(findModels(modelDirs(ctx.dataDir)), request.modelId);
      } catch (error) {
        const f = asFailure(error);
        return fail(f.code, f.message);
      }
      return ok(startBatch(ctx, request));
    },
    cancelBatch: async (request) => {
      const controller = batches.get(request.batchId);
      if (!controller) return fail('not-found', `No running batch ${request.batchId} (it may have finished).`);
      controller.abort();
      return ok({ cancelled: true });
    },
    listModels: async () => {
      const listing = findModels(modelDirs(ctx.dataDir));
      const defaultId =
        listing.models.find((m) => m.manifest.id === DEFAULT_MODEL_ID)?.manifest.id ?? listing.models[0]?.manifest.id;
      return ok({
        models: listing.models.map((m) => ({
          id: m.manifest.id,
          version: m.manifest.version,
          source: m.source,
          isDefault: m.manifest.id === defaultId,
        })),
        refused: listing.refused.map((r) => ({ dir: r.dir, reason: r.reason })),
      });
    },
  };
}
