import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
const W = '/work/wt-landmarks';
const { decodeImageFile } = await import(`${W}/main/dicom/index.ts`);
const { pipelineImageOf, verifyModel } = await import(`${W}/main/inference/index.ts`);
const { runPipeline } = await import(`${W}/main/inference/pipeline.ts`);
const { createStageSession } = await import(`${W}/main/inference/sessions.ts`);
const { sampleRoi, zscoreInPlace, intensityTable } = await import(`${W}/core/inference/index.ts`);
const ortm: any = await import(`${W}/node_modules/onnxruntime-node/dist/index.js`); const ort = ortm.default ?? ortm;
const ann = JSON.parse(readFileSync('/work/shared/data/cvm13/annotations.json', 'utf8'));
const foldsDir = `${W}/models/cvm13-unet/folds`;
const out: any[] = [];
const bins: Buffer[] = [];
for (const f of readdirSync(foldsDir).sort()) {
  const model = verifyModel(path.join(foldsDir, f), 'user');
  const m = model.manifest;
  const mk = async (spec: any) => {
    const s = await createStageSession(readFileSync(path.join(model.dir, spec.file)), spec, ['cpu']);
    return async (input: Float32Array) => { const o = await s.session.run({ [spec.input.name]: new ort.Tensor('float32', input, [...spec.input.shape]) }); return o[spec.output.name].data as Float32Array; };
  };
  const loc = await mk(m.stages.locate); const ref = await mk(m.stages.refine);
  for (const id of m.training.heldOut) {
    const e = ann.images[id];
    const opened = await decodeImageFile(path.basename(e.image), readFileSync(path.resolve('/work/shared/data/cvm13', e.image)));
    const img = pipelineImageOf(opened);
    let hmA: Float32Array | null = null; let hm1: Float32Array | null = null;
    const res = await runPipeline(m, async (x: Float32Array) => (hm1 = await loc(x)), async (x: Float32Array) => (hmA = await ref(x)), img, { rowMm: 0.1, colMm: 0.1 });
    const st1 = res.landmarks.map((l: any) => l.stage1);
    const cx1 = st1.reduce((a: number, p: any) => a + p.x, 0) / 13, cy1 = st1.reduce((a: number, p: any) => a + p.y, 0) / 13;
    const cx2 = res.landmarks.reduce((a: number, p: any) => a + p.x, 0) / 13, cy2 = res.landmarks.reduce((a: number, p: any) => a + p.y, 0) / 13;
    const [, , rH, rW] = m.stages.refine.input.shape;
    const s = m.stages.refine.mmPerPixel / 0.1;
    const roiB = { cx: cx2, cy: cy2, W: rW, H: rH, sx: s, sy: s };
    const table = intensityTable(img.window, img.data instanceof Uint8Array ? 256 : 65536);
    const hmB = await ref(zscoreInPlace(sampleRoi(img.data, img.width, img.height, roiB, table)));
    out.push({ id, fold: f, w: img.width, h: img.height, truth: e.points, filled: e.filled_from_prediction ?? [],
      pred: res.landmarks.map((l: any) => [l.x, l.y, l.confidence]), stage1: st1.map((p: any) => [p.x, p.y]),
      roiA: { cx: cx1, cy: cy1, W: rW, H: rH, sx: s, sy: s }, roiB });
    bins.push(Buffer.from((hmA as any).buffer.slice(0)), Buffer.from((hmB as any).buffer.slice(0)), Buffer.from((hm1 as any).buffer.slice(0)));
    process.stderr.write(`${id} `);
  }
}
writeFileSync('/tmp/lm/dump.json', JSON.stringify(out));
writeFileSync('/tmp/lm/dump.bin', Buffer.concat(bins));
