/**
 * Landmark analysis of image files outside the data folder (`cvm analyze`, `cvm eval`, `cvm pacs pull
 * --analyze` stays on the stored path): the same path as the app's analysis of a stored image
 * (./landmark-analysis.ts: the hand refusal, the engine, the staging), with pixels from a file instead of the
 * store and nothing recorded. The engine runs ONNX Runtime in its worker; the main thread never loads it.
 */
import type { AnalysisResult, ModelRef, ProviderInfo } from '../../core/api/analysis';
import type { OpenedImage, Spacing } from '../../core/api/image';
import {
  enteredSpacing,
  greyImageOf,
  InferenceEngine,
  landmarkSetOf,
  modelDirs,
  openWholeImageModels,
  resolveModel,
  runBatch,
  verifyModel,
  type BatchItemResult,
  type BatchOutcome,
  type BatchProgressInfo,
  type EngineEvent,
  type VerifiedModel,
} from '../inference/index';
import { closeFileDecoders, openImageFile } from './files';
import { analyzeOpenedImage, HandRadiographError } from './landmark-analysis';

export { enteredSpacing, HandRadiographError, landmarkSetOf, verifyModel };
export type { BatchItemResult, BatchOutcome, BatchProgressInfo, VerifiedModel };

/** A --model argument (a model id or a model folder) resolved against the shipped and the data folder's models. */
export function resolveAnalysisModel(dataDir: string, idOrFolder?: string): VerifiedModel {
  return resolveModel(modelDirs(dataDir), idOrFolder);
}

export interface FileAnalyzerOptions {
  readonly dataDir: string;
  /** A model id, a model folder or a verified model; the default model otherwise. */
  readonly model?: string | VerifiedModel;
  /**
   * Refuse hand-wrist radiographs as the app does (needs the radiograph-kind model; without it nothing is
   * refused). `cvm eval` turns this off: it measures the landmark model alone on a known set of cephalograms.
   */
  readonly recogniseKind?: boolean;
  readonly onEvent?: (event: EngineEvent) => void;
  /**
   * Create the radiograph-kind model's session as soon as the landmark engine is ready (default). false: on the
   * first image, after its landmarks. analyzeFiles passes false for a single file decoded in this thread, whose
   * landmarks the engine is then ready for the moment it is decoded.
   */
  readonly warmKind?: boolean;
}

/** One warm engine (and the kind model) for analysing files one after another. */
export interface FileAnalyzer {
  readonly model: VerifiedModel;
  readonly modelRef: ModelRef;
  readonly provider: ProviderInfo;
  readonly sessionCreateMs: number;
  analyze(
    opened: OpenedImage,
    options?: { readonly spacing?: Spacing | null; readonly decodeMs?: number | null },
  ): Promise<AnalysisResult>;
  close(): Promise<void>;
}

export async function startFileAnalysis(options: FileAnalyzerOptions): Promise<FileAnalyzer> {
  const model =
    typeof options.model === 'object' ? options.model : resolveAnalysisModel(options.dataDir, options.model);
  const starting = InferenceEngine.start({ model, ...(options.onEvent ? { onEvent: options.onEvent } : {}) });
  // The kind model runs in the landmark engine's worker, after the landmarks of the same image: ONNX Runtime loads
  // in that thread only (see WholeImageEngineOptions.runner). It is found and checked here while the engine starts.
  const kinds =
    options.recogniseKind === false
      ? null
      : openWholeImageModels(modelDirs(options.dataDir), {
          runner: { runWholeImage: async (run) => (await starting).runWholeImage(run) },
        });
  const kindModel = kinds?.kindModel ?? null;
  // Its session is created before the first image arrives: one classification of a tiny blank image, whose answer
  // is not used.
  if (kinds && kindModel && options.warmKind !== false)
    void kinds
      .classifyRadiograph({ width: 8, height: 8, data: new Float32Array(64), window: null })
      .catch(() => undefined);
  let engine: InferenceEngine;
  try {
    engine = await starting;
  } catch (error) {
    await kinds?.close();
    throw error;
  }
  return {
    model,
    modelRef: engine.modelRef,
    provider: engine.provider,
    sessionCreateMs: engine.sessionCreateMs,
    analyze: (opened, o = {}) =>
      analyzeOpenedImage(engine, opened, {
        ...(o.spacing ? { spacing: o.spacing } : {}),
        ...(o.decodeMs !== undefined ? { decodeMs: o.decodeMs } : {}),
        ...(kinds && kindModel ? { kindOf: () => kinds.classifyRadiograph(greyImageOf(opened)) } : {}),
      }),
    close: async () => {
      await kinds?.close();
      await engine.close();
    },
  };
}

export interface AnalyzeFilesOptions extends FileAnalyzerOptions {
  /** Overrides every file's own spacing (e.g. `--spacing 0.1`). */
  readonly spacing?: Spacing | null;
  readonly signal?: AbortSignal;
  /** Once the engine is ready, before the first result. */
  readonly onStart?: (analyzer: FileAnalyzer) => void;
  readonly onProgress?: (p: BatchProgressInfo) => void;
  readonly onItem?: (r: BatchItemResult<AnalysisResult>) => void;
  /**
   * Decode in the decoder worker (default: when there are several files). A single file is decoded in this
   * thread, which only waits for the model meanwhile: no extra thread to start (a Node environment and its
   * code: 0.1-0.25 s of CPU on a cold start) and no copy of the pixels back from it.
   */
  readonly decodeInWorker?: boolean;
}

/**
 * Analyses files in order, each one's failure recorded and the rest going on; once `signal` aborts the file
 * in progress finishes and no further one starts. Decoding runs one file ahead: the first file decodes while
 * the model loads (in its worker), each next one while the current one is analysed.
 */
export async function analyzeFiles(
  files: readonly string[],
  options: AnalyzeFilesOptions,
): Promise<BatchOutcome<AnalysisResult>> {
  // One file: decoded here while the model loads in its worker. Several: in the decoder worker, so that this
  // thread stays free to pass each image to the inference worker while the next one decodes.
  const inWorker = options.decodeInWorker ?? files.length > 1;
  const ahead = new Map<string, Promise<{ opened: OpenedImage; decodeMs: number }>>();
  const decodeAhead = (file: string): void => {
    if (ahead.has(file)) return;
    const started = performance.now();
    // Called now rather than in a later tick: the first file is read and the decoder's modules load while the
    // model is checked below (the decoding itself runs once they have loaded).
    const decoding = openImageFile(file, { inWorker, oneImage: !inWorker && files.length === 1 }).then((opened) => ({
      opened,
      decodeMs: performance.now() - started,
    }));
    decoding.catch(() => undefined); // reported when its turn comes
    ahead.set(file, decoding);
  };
  if (files[0] !== undefined) decodeAhead(files[0]);
  let analyzer: FileAnalyzer;
  try {
    analyzer = await startFileAnalysis(inWorker ? options : { ...options, warmKind: false });
  } catch (error) {
    await closeFileDecoders();
    throw error;
  }
  try {
    options.onStart?.(analyzer);
    return await runBatch(
      files,
      (file) => file,
      async (file) => {
        decodeAhead(file);
        const decoding = ahead.get(file);
        ahead.delete(file);
        const following = files[files.indexOf(file) + 1];
        if (following !== undefined && !options.signal?.aborted) decodeAhead(following);
        const { opened, decodeMs } = await (decoding as NonNullable<typeof decoding>);
        return analyzer.analyze(opened, { decodeMs, spacing: options.spacing ?? null });
      },
      {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.onItem ? { onItem: options.onItem } : {}),
      },
    );
  } finally {
    await Promise.all([analyzer.close(), closeFileDecoders()]);
  }
}
