/**
 * Cross-validated stage-2 heatmaps for fit_decoding.py: every cvm13 image analysed by the fold model that
 * held it out (models/cvm13-unet/folds), through the app's own pipeline code (argmax decoding, no decoding
 * file, so the calibration does not feed on itself). Writes <out>.json (per image: fold, truth, predicted
 * points, regions) and <out>.bin (float32 per image: stage-2 heatmaps of the pipeline's crop, of a crop
 * re-centred on its prediction, and the stage-1 heatmaps).
 *
 * Usage (from the repository root): npx tsx models/training/dump_cv_heatmaps.mts [out prefix, default /tmp/cvm13-cv-
 * dump]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { intensityTable, sampleRoi, zscoreInPlace } from '../../core/inference/index';
import { decodeImageFile } from '../../main/dicom/index';
import { pipelineImageOf, verifyModel } from '../../main/inference/index';
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
const out: unknown[] = [];
const bins: Buffer[] = [];
for (const fold of readdirSync(foldsDir).sort()) {
  const model = verifyModel(path.join(foldsDir, fold), 'user');
  const m = model.manifest;
  const runner = async (
    spec: typeof m.stages.locate | typeof m.stages.refine,
  ): Promise<(x: Float32Array) => Promise<Float32Array>> => {
    const s = await createStageSession(readFileSync(path.join(model.dir, spec.file)), spec, ['cpu']);
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
    const img = pipelineImageOf(opened);
    let hm1 = new Float32Array(0);
    let hmA = new Float32Array(0);
    const res = await runPipeline(
      m,
      async (x) => (hm1 = await locate(x)),
      async (x) => (hmA = await refine(x)),
      img,
      { rowMm: SPACING_MM, colMm: SPACING_MM },
      { orientation: 'as-stored' },
    );
    const st1 = res.landmarks.map((l) => l.stage1);
    const mean = (ps: readonly { x: number; y: number }[]): { x: number; y: number } => ({
      x: ps.reduce((a, p) => a + p.x, 0) / ps.length,
      y: ps.reduce((a, p) => a + p.y, 0) / ps.length,
    });
    const c1 = mean(st1);
    const c2 = mean(res.landmarks);
    const [, , rH, rW] = m.stages.refine.input.shape;
    const s = m.stages.refine.mmPerPixel / SPACING_MM;
    const roiB = { cx: c2.x, cy: c2.y, W: rW, H: rH, sx: s, sy: s };
    const table = intensityTable(img.window, img.data instanceof Uint8Array ? 256 : 65536);
    const hmB = await refine(
      zscoreInPlace(
        sampleRoi(img.data, img.width, img.height, roiB, img.data instanceof Float32Array ? undefined : table),
      ),
    );
    out.push({
      id,
      fold,
      w: img.width,
      h: img.height,
      truth: e.points,
      filled: e.filled_from_prediction ?? [],
      pred: res.landmarks.map((l) => [l.x, l.y, l.confidence]),
      stage1: st1.map((p) => [p.x, p.y]),
      roiA: { cx: c1.x, cy: c1.y, W: rW, H: rH, sx: s, sy: s },
      roiB,
    });
    for (const h of [hmA, hmB, hm1]) bins.push(Buffer.from(h.buffer, h.byteOffset, h.byteLength));
    process.stderr.write(`${fold} ${id}\n`);
  }
}
writeFileSync(`${OUT}.json`, JSON.stringify(out));
writeFileSync(`${OUT}.bin`, Buffer.concat(bins));
console.log(`wrote ${OUT}.json and ${OUT}.bin (${out.length} images)`);
