/**
 * Cross-validated predictions and uncertainty features for fit_decoding.py: every cvm13 image analysed by
 * the fold model that held it out (models/cvm13-unet/folds), through the app's own pipeline with that
 * fold's decoding.json (candidates, test-time passes, shape regularisation). Writes <out>.json: per image
 * its fold, truth, the predicted points (upright = stored here) and each landmark's UncertaintyFeatures, and
 * the shape model and test-time parameters the features were computed with, so that the fit can check they
 * are current.
 *
 * Usage (from the repository root): npx tsx models/training/dump_cv_heatmaps.mts [out prefix, default
 * /tmp/cvm13-cv-dump]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { parseDecoding, parseManifest } from '../../core/inference/index';
import { decodeImageFile } from '../../main/dicom/index';
import { pipelineImageOf } from '../../main/inference/index';
import { runPipeline } from '../../main/inference/pipeline';
import { createStageSession } from '../../main/inference/sessions';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = path.resolve(ROOT, '..', 'shared', 'data');
const OUT = process.argv[2] ?? '/tmp/cvm13-cv-dump';
const SPACING_MM = 0.1;

interface Entry {
  image: string;
  points: Record<string, [number, number]>;
  filled_from_prediction?: string[];
}
const ann = JSON.parse(readFileSync(path.join(SHARED, 'cvm13', 'annotations.json'), 'utf8')) as {
  images: Record<string, Entry>;
};
const foldsDir = path.join(ROOT, 'models', 'cvm13-unet', 'folds');
const images: unknown[] = [];
const decodings: Record<string, { shapeModel: unknown; testTime: unknown }> = {};
for (const fold of readdirSync(foldsDir).sort()) {
  const dir = path.join(foldsDir, fold);
  const m = parseManifest(JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')));
  // decoding.json is read as it is now (its manifest hash is updated by fit_decoding.py afterwards).
  const decodingText = readFileSync(path.join(dir, 'decoding.json'), 'utf8');
  const decodingJson = JSON.parse(decodingText) as { shapeModel: unknown; testTime?: unknown };
  const decoding = parseDecoding(decodingJson, m.landmarks);
  // What the features depend on (the expected-error block does not change them), for fit_decoding.py's check.
  decodings[fold] = { shapeModel: decodingJson.shapeModel, testTime: decodingJson.testTime ?? null };
  const runner = async (
    spec: typeof m.stages.locate | typeof m.stages.refine,
  ): Promise<(x: Float32Array) => Promise<Float32Array>> => {
    const s = await createStageSession(readFileSync(path.join(dir, spec.file)), spec, ['cpu']);
    return async (input) =>
      (await s.session.run({ [spec.input.name]: new ort.Tensor('float32', input, [...spec.input.shape]) }))[
        spec.output.name
      ]!.data as Float32Array;
  };
  const locate = await runner(m.stages.locate);
  const refine = await runner(m.stages.refine);
  for (const id of m.training?.heldOut ?? []) {
    const e = ann.images[id]!;
    const opened = await decodeImageFile(path.basename(e.image), readFileSync(path.resolve(SHARED, 'cvm13', e.image)));
    const res = await runPipeline(
      m,
      locate,
      refine,
      pipelineImageOf(opened),
      { rowMm: SPACING_MM, colMm: SPACING_MM },
      { orientation: 'as-stored', decoding },
    );
    images.push({
      id,
      fold,
      truth: e.points,
      filled: e.filled_from_prediction ?? [],
      pred: res.landmarks.map((l) => [l.x, l.y]),
      features: res.uncertainty,
    });
    process.stderr.write(`${fold} ${id}\n`);
  }
}
writeFileSync(`${OUT}.json`, JSON.stringify({ spacingMm: SPACING_MM, decodings, images }));
console.log(`wrote ${OUT}.json (${images.length} images)`);
