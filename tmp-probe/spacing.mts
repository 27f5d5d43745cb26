// Probe: landmarks of the 54 cvm13 images (each by its held-out fold model) with the spacing unknown or wrong.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeImageFile } from '../main/dicom/index';
import { InferenceEngine, verifyModel, analyzeOpened, enteredSpacing } from '../main/inference/index';

const mode = process.argv[2] ?? 'none'; // none | <mm>
const root = '/work/shared/data/cvm13';
const ann = JSON.parse(readFileSync(path.join(root, 'annotations.json'), 'utf8'));
const folds = '/work/main/models/cvm13-unet/folds';
const all: number[] = [];
let wrongScale = 0;
for (const f of ['fold0', 'fold1', 'fold2', 'fold3', 'fold4']) {
  const m = JSON.parse(readFileSync(path.join(folds, f, 'manifest.json'), 'utf8'));
  const engine = await InferenceEngine.start({ model: verifyModel(path.join(folds, f)), providers: ['cpu'] });
  for (const id of m.training.heldOut as string[]) {
    const t = ann.images[id];
    const file = path.resolve(root, t.image);
    const opened = await decodeImageFile(path.basename(file), readFileSync(file));
    const spacing = mode === 'none' ? null : enteredSpacing(Number(mode), 'probe');
    const r = await analyzeOpened(engine, opened, { spacing });
    const errs = r.prediction.landmarks
      .filter((l) => !(t.filled_from_prediction ?? []).includes(l.name))
      .map((l) => Math.hypot(l.x - t.points[l.name][0], l.y - t.points[l.name][1]) * 0.1);
    const mre = errs.reduce((a, b) => a + b, 0) / errs.length;
    if (mre > 1) wrongScale++;
    all.push(...errs);
    console.log(id, r.prediction.quality.verdict, mre.toFixed(3), JSON.stringify((r.prediction as unknown as { scale?: unknown }).scale ?? '').slice(0, 80));
  }
  await engine.close();
}
all.sort((a, b) => a - b);
console.log(mode, 'MRE', (all.reduce((a, b) => a + b, 0) / all.length).toFixed(3), 'within 2 mm', (all.filter((e) => e <= 2).length / all.length * 100).toFixed(2), 'images > 1 mm', wrongScale);
