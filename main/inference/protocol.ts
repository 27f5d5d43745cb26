/** Messages between the inference engine (main thread) and its worker. */
import type { PixelSpacingMm } from '../../core/geometry/index';
import type { DecodingParams, ModelManifest } from '../../core/inference/index';
import type { PipelineImage, PipelineOutput } from './pipeline';
import type { ProviderName, ProviderReport } from './providers';
import type { FromWholeImageWorker, ToWholeImageWorker } from './whole-image-run';

/** A graph file's bytes, checked against the manifest's sha256 (transferred, so backed by an ArrayBuffer). */
export type ModelBytes = Uint8Array<ArrayBuffer>;

export type ToWorker =
  | {
      readonly type: 'init';
      readonly manifest: ModelManifest;
      /** The model's decoding.json, checked; null when it has none. */
      readonly decoding: DecodingParams | null;
      /** The graphs' bytes, checked against the manifest's sha256 in the main thread and transferred here. */
      readonly graphs: {
        readonly locate: ModelBytes;
        readonly refine: ModelBytes;
        readonly refineMembers: readonly ModelBytes[];
      };
      readonly providers: readonly ProviderName[];
      readonly cudaHint: string;
    }
  | {
      readonly type: 'analyze';
      readonly id: number;
      readonly image: PipelineImage;
      readonly spacing: PixelSpacingMm | null;
      /** PipelineOptions.orientation: 'as-stored' looks at the image only as it is (no orientation search). */
      readonly orientation?: 'auto' | 'as-stored';
    }
  /** Runs every network twice on zeros (see InferenceEngine.warmUp). */
  | { readonly type: 'warm-up'; readonly id: number }
  /** Runs a whole-image model (see InferenceEngine.runWholeImage). */
  | { readonly type: 'whole-image'; readonly id: number; readonly run: Extract<ToWholeImageWorker, { type: 'run' }> }
  /** Makes the worker throw an uncaught exception: how tests check that a crash is survived. */
  | { readonly type: 'crash' };

export type FromWorker =
  | {
      readonly type: 'ready';
      readonly provider: ProviderReport;
      readonly createMs: { readonly locate: number; readonly refine: number };
    }
  | { readonly type: 'init-failed'; readonly message: string; readonly modelInvalid: boolean }
  | { readonly type: 'result'; readonly id: number; readonly output: PipelineOutput }
  | { readonly type: 'warmed'; readonly id: number; readonly ms: number; readonly runs: number }
  | { readonly type: 'whole-image-result'; readonly id: number; readonly result: FromWholeImageWorker }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };
