/**
 * Cross-validated predictions and uncertainty features for fit_decoding.py: every cvm13 image analysed by
 * the fold model that held it out (models/cvm13-unet/folds), through the app's own pipeline with that
 * fold's decoding.json (candidates, test-time passes, shape regularisation). Writes <out>.json: per image
 * its fold, truth, the predicted points (upright = stored here) and each landmark's UncertaintyFeatures, and
 * the shape model and test-time parameters the features were computed with, so that the fit can check they
 * are current.
 *
 * Usage (from the repository root): npx tsx models/training/dump_cv_heatmaps.mts [out prefix, default
 * /tmp/cvm13-cv-dump] [--heatmaps]
 * --heatmaps also writes <out>.heatmaps.bin (float32): per image the unturned stage-2 input crop (H x W), then
 * each test-time pass's heatmaps (13 x H x W), at the image's `heatmapOffset` (in floats); the feature search
 * of expected_error_search.py reads it (about 170 MB for three passes).
 */
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { INTRA_OP_THREADS } from '../../main/inference/sessions';
import { openModelFolder } from './model-folder.mts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = path.resolve(ROOT, '..', 'shared', 'data');
const args = process.argv.slice(2);
const WITH_HEATMAPS = args.includes('--heatmaps');
const OUT = args.find((a) => !a.startsWith('--')) ?? '/tmp/cvm13-cv-dump';
const heatmapFile = WITH_HEATMAPS ? openSync(`${OUT}.heatmaps.bin`, 'w') : null;
let heatmapOffset = 0;
const SPACING_MM = 0.1;

interface Entry {
  image: string;
  points: Record<string, [number, number]>;
  filled_from_prediction?: string[];
}
const ann = JSON.parse(readFileSync(path.join(SHARED, 'cvm13', 'annotations.json'), 'utf8')) as {
  images: Record<string, Entry>;
};
// CVM_MODEL: another model folder (its folds/), as fit_decoding.py reads it
const foldsDir = path.join(process.env.CVM_MODEL ?? path.join(ROOT, 'models', 'cvm13-unet'), 'folds');
const images: unknown[] = [];
const decodings: Record<string, { shapeModel: unknown; testTime: unknown }> = {};
for (const fold of readdirSync(foldsDir).sort()) {
  // the app's thread count, as the app computes these features
  const model = await openModelFolder(path.join(foldsDir, fold), INTRA_OP_THREADS);
  // What the features depend on (the expected-error block does not change them), for fit_decoding.py's check.
  decodings[fold] = { shapeModel: model.decodingJson.shapeModel, testTime: model.decodingJson.testTime ?? null };
  for (const id of model.manifest.training?.heldOut ?? []) {
    const e = ann.images[id]!;
    const res = await model.analyseFile(path.resolve(SHARED, 'cvm13', e.image), SPACING_MM);
    let raw: { heatmapOffset: number; passes: number } | Record<string, never> = {};
    if (heatmapFile !== null) {
      const runs = model.lastStage2Runs;
      raw = { heatmapOffset, passes: runs.length };
      for (const b of [runs[0]!.input, ...runs.map((r) => r.heatmaps)]) {
        writeSync(heatmapFile, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
        heatmapOffset += b.length;
      }
    }
    images.push({
      id,
      fold,
      truth: e.points,
      filled: e.filled_from_prediction ?? [],
      pred: res.landmarks.map((l) => [l.x, l.y]),
      features: res.uncertainty,
      // the stage-2 crop's centre is the mean of these (stage 1), for mapping points into the heatmaps
      stage1: res.landmarks.map((l) => [l.stage1.x, l.stage1.y]),
      expected: res.landmarks.map((l) => l.expectedErrorMm),
      ...raw,
    });
    process.stderr.write(`${fold} ${id}\n`);
  }
}
if (heatmapFile !== null) closeSync(heatmapFile);
writeFileSync(`${OUT}.json`, JSON.stringify({ spacingMm: SPACING_MM, decodings, images }));
console.log(`wrote ${OUT}.json (${images.length} images)`);
