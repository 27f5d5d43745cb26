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
import { INTRA_OP_THREADS } from '../../main/inference/sessions';
import { openModelFolder } from './model-folder.mts';

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
