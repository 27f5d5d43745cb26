/**
 * Pseudo-labels for fine-tuning stage 2 (finetune.py): one model folder (a fold model or the final model)
 * analyses images through the app's own pipeline (stage 1, the stage-2 crop, the test-time passes of its
 * decoding.json, shape regularisation, expected error) and writes, per image, the decoded points, each
 * landmark's uncertainty features and expected error, the anatomy check and the verdict.
 *
 *   npx tsx models/training/pseudo_label.mts <model dir> <out.json> [unlabelled|held-out]
 *
 * `unlabelled` (default): the ISBI 2015 images without cvm13 annotations (isbi19_landmarks.csv minus
 * cvm13/annotations.json): never a cvm13 image, so never an image that any fold holds out.
 * `held-out`: the model's own held-out cvm13 images (training.heldOut), with their annotations, to measure how
 * good the pseudo-labels that a keep rule accepts are (finetune.py --rule-report); never used for training.
 * Sessions run on one thread (the training budget of this machine).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openModelFolder } from './model-folder.mts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = process.env.CVM_DATA ?? path.resolve(ROOT, '..', 'shared', 'data');
const [dirArg, outArg, modeArg = 'unlabelled'] = process.argv.slice(2);
if (!dirArg || !outArg || !['unlabelled', 'held-out'].includes(modeArg)) {
  console.error('usage: npx tsx models/training/pseudo_label.mts <model dir> <out.json> [unlabelled|held-out]');
  process.exit(2);
}
const dir = path.resolve(dirArg);
const SPACING_MM = 0.1;

const ann = JSON.parse(readFileSync(path.join(SHARED, 'cvm13', 'annotations.json'), 'utf8')) as {
  images: Record<string, { image: string; points: Record<string, [number, number]> }>;
};
const isbiIds = readFileSync(path.join(SHARED, 'isbi2015', 'isbi19_landmarks.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(',')[0]!);
const model = await openModelFolder(dir, 1);
const m = model.manifest;
const ids = modeArg === 'unlabelled' ? isbiIds.filter((id) => !(id in ann.images)) : [...(m.training?.heldOut ?? [])];

const images: unknown[] = [];
const t0 = performance.now();
for (const id of ids) {
  const file = path.join(SHARED, 'isbi2015', 'images', `${id}.jpg`);
  const res = await model.analyseFile(file, SPACING_MM);
  images.push({
    id,
    truth: modeArg === 'held-out' ? ann.images[id]!.points : null,
    verdict: res.quality.verdict,
    plausible: res.anatomy?.plausible ?? false,
    shapeDistance: res.anatomy?.shapeDistance ?? null,
    pred: res.landmarks.map((l) => [l.x, l.y]),
    expectedErrorMm: res.landmarks.map((l) => l.expectedErrorMm),
    features: res.uncertainty,
  });
}
writeFileSync(
  outArg,
  JSON.stringify({ model: m.id, mode: modeArg, landmarks: m.landmarks, spacingMm: SPACING_MM, images }),
);
console.log(
  `${m.id}: ${images.length} ${modeArg} images in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${outArg}`,
);
