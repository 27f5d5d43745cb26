/**
 * A landmark model folder (manifest, locate/refine ONNX, decoding.json) opened for the training scripts, and
 * one image file analysed through the app's own pipeline with it (stage 1, the stage-2 crop, the test-time
 * passes, shape regularisation, expected error) at a known spacing, stored orientation kept.
 * Shared by dump_cv_heatmaps.mts and pseudo_label.mts so that both see exactly what the app computes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import '../../main/inference/ort-telemetry';
import ort from 'onnxruntime-node';
import { parseDecoding, parseManifest, refineMembers } from '../../core/inference/index';
import { decodeImageFile } from '../../main/dicom/index';
import { pipelineImageOf } from '../../main/inference/index';
import { runPipeline } from '../../main/inference/pipeline';

export interface ModelFolder {
  readonly manifest: ReturnType<typeof parseManifest>;
  /** decoding.json as it is on disk now (its manifest hash is updated by fit_decoding.py afterwards). */
  readonly decodingJson: { shapeModel: unknown; testTime?: unknown };
  analyseFile(file: string, spacingMm: number): ReturnType<typeof runPipeline>;
  /**
   * The stage-2 runs of the last analyseFile, in the order of the decoding file's test-time passes: each
   * network's input crop and output heatmaps (for the expected-error feature search, expected_error_search.py).
   */
  readonly lastStage2Runs: readonly { input: Float32Array; heatmaps: Float32Array }[];
}

/** `threads`: ONNX Runtime's intra-op threads (1 keeps a script within a one-core training budget). */
export async function openModelFolder(dir: string, threads: number): Promise<ModelFolder> {
  const manifest = parseManifest(JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')));
  const decodingJson = JSON.parse(readFileSync(path.join(dir, 'decoding.json'), 'utf8')) as ModelFolder['decodingJson'];
  const decoding = parseDecoding(decodingJson, manifest.landmarks);
  const stage2Runs: { input: Float32Array; heatmaps: Float32Array }[] = [];
  const runner = async (
    spec: typeof manifest.stages.locate | typeof manifest.stages.refine,
    record = false,
  ): Promise<(x: Float32Array) => Promise<Float32Array>> => {
    const session = await ort.InferenceSession.create(readFileSync(path.join(dir, spec.file)), {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return async (input) => {
      const heatmaps = (
        await session.run({ [spec.input.name]: new ort.Tensor('float32', input, [...spec.input.shape]) })
      )[spec.output.name]!.data as Float32Array;
      if (record) stage2Runs.push({ input: input.slice(), heatmaps: heatmaps.slice() });
      return heatmaps;
    };
  };
  const locate = await runner(manifest.stages.locate);
  const refine = await runner(manifest.stages.refine, true);
  // The ensemble's further stage-2 networks (stages.refine.ensemble); the app checks their sha256 (registry).
  const members = [];
  for (const spec of refineMembers(manifest.stages.refine).slice(1)) members.push(await runner(spec, true));
  return {
    manifest,
    decodingJson,
    lastStage2Runs: stage2Runs,
    analyseFile: async (file, spacingMm) => {
      stage2Runs.length = 0;
      const opened = await decodeImageFile(path.basename(file), readFileSync(file));
      return runPipeline(
        manifest,
        locate,
        refine,
        pipelineImageOf(opened),
        { rowMm: spacingMm, colMm: spacingMm },
        { orientation: 'as-stored', decoding, refineMembers: members },
      );
    },
  };
}
