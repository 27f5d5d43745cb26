/**
 * The cost of the stage-2 ensemble, as an A/B in one process on the same sessions and image (on a loaded machine
 * separate `cvm bench` runs differ more between themselves than A and B do): A = the model's decoding file with
 * its `passes` removed (member 0 on the crop as is and on each of `rotationsDeg`: model 1.0.0's plan), B = the
 * file as shipped (the ensemble's plan). 30 interleaved runs each (after one warm-up), medians of wall time and of
 * the process's CPU time (all threads), and per file (read + JPEG decode + pipeline).
 *
 * Usage (repository root): npx tsx models/training/ensemble_cost.mts [model folder, default models/cvm13-unet]
 * [image, default ../shared/data/isbi2015/images/001.jpg]; SPIN=0 disables ONNX Runtime's intra-op spinning.
 */
import { readFileSync } from 'node:fs';
import '../../main/inference/ort-telemetry';
import ort from 'onnxruntime-node';
import { parseDecoding, refineMembers, type StageSpec } from '../../core/inference/index';
import { decodeImageFile } from '../../main/dicom/index';
import { pipelineImageOf, verifyModel } from '../../main/inference/index';
import { runPipeline } from '../../main/inference/pipeline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const spin = process.env.SPIN ?? '1';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = path.resolve(process.argv[2] ?? path.join(ROOT, 'models', 'cvm13-unet'));
const file = path.resolve(process.argv[3] ?? path.join(ROOT, '..', 'shared', 'data', 'isbi2015', 'images', '001.jpg'));
const model = verifyModel(dir);
const mk = async (file: string, spec: StageSpec) => {
  const s = await ort.InferenceSession.create(readFileSync(file), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: spin } } },
  });
  return async (x: Float32Array) =>
    (await s.run({ [spec.input.name]: new ort.Tensor('float32', x, [...spec.input.shape]) }))[spec.output.name]!
      .data as Float32Array;
};
const specs = refineMembers(model.manifest.stages.refine);
const locate = await mk(model.files.locate, model.manifest.stages.locate);
const r0 = await mk(model.files.refine, model.manifest.stages.refine);
const members = await Promise.all(model.files.refineMembers.map((f, i) => mk(f, specs[i + 1]!)));
const raw = JSON.parse(readFileSync(path.join(dir, model.manifest.decoding?.file ?? 'decoding.json'), 'utf8'));
const decB = parseDecoding(raw, model.manifest.landmarks);
const { passes: _passes, ...ttA } = raw.testTime;
const decA = parseDecoding({ ...raw, testTime: ttA }, model.manifest.landmarks);
const image = pipelineImageOf(await decodeImageFile(path.basename(file), readFileSync(file)));
const sp = { rowMm: 0.1, colMm: 0.1 };
const res: Record<string, { wall: number[]; cpu: number[]; file: number[] }> = {
  A: { wall: [], cpu: [], file: [] },
  B: { wall: [], cpu: [], file: [] },
};
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
for (let i = 0; i < 31; i++) {
  for (const v of (i % 2 ? ['A', 'B'] : ['B', 'A']) as ('A' | 'B')[]) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await runPipeline(model.manifest, locate, r0, image, sp, {
      decoding: v === 'A' ? decA : decB,
      refineMembers: members,
      orientation: 'as-stored',
    });
    const t1 = performance.now();
    const c = process.cpuUsage(c0);
    // per file: read + decode + pipeline
    const f0 = performance.now();
    const im = pipelineImageOf(await decodeImageFile(path.basename(file), readFileSync(file)));
    await runPipeline(model.manifest, locate, r0, im, sp, {
      decoding: v === 'A' ? decA : decB,
      refineMembers: members,
      orientation: 'as-stored',
    });
    const f1 = performance.now();
    if (i === 0) continue;
    res[v]!.wall.push(t1 - t0);
    res[v]!.cpu.push((c.user + c.system) / 1000);
    res[v]!.file.push(f1 - f0);
  }
}
for (const v of ['A', 'B'])
  console.log(
    `spin=${spin} ${v}: pipeline wall ${med(res[v]!.wall).toFixed(1)} ms, CPU ${med(res[v]!.cpu).toFixed(1)} ms; per file (read+decode+pipeline) wall ${med(res[v]!.file).toFixed(1)} ms (n=${res[v]!.wall.length})`,
  );
