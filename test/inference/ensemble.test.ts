/**
 * Stage-2 ensembles (manifest `stages.refine.ensemble`, decoding.json `testTime.passes`/`combine`): how the
 * members' passes are combined, the members' disagreement as a feature of the expected error, and the checks
 * that refuse a member file that does not match its manifest. Real ONNX sessions (the shipped model's networks:
 * its refine.onnx as member 0 and its independently trained refine-m1.onnx as member 1) on a real cephalogram
 * from ../shared, in copies of the model folder whose decoding files try each rule.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import '../../main/inference/ort-telemetry';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectedErrorMm,
  parseDecoding,
  parseManifest,
  refineMembers,
  type ExpectedErrorModel,
  type StageSpec,
} from '../../core/inference/index';
import { decodeImageFile } from '../../main/dicom/index';
import {
  InferenceEngine,
  ModelError,
  pipelineImageOf,
  verifyModel,
  type PipelineImage,
} from '../../main/inference/index';
import { runPipeline, type PipelineOutput, type StageRunner } from '../../main/inference/pipeline';
import { createStageSession } from '../../main/inference/sessions';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const SHIPPED = path.join(REPO_ROOT, 'models', 'cvm13-unet');
const OTHER_NETWORK = path.join(SHIPPED, 'refine-m1.onnx');
const HAS_MODEL = existsSync(path.join(SHIPPED, 'decoding.json')) && existsSync(OTHER_NETWORK);
if (!HAS_MODEL) console.warn(`skipped: the shipped model with its ensemble member is absent (${SHIPPED})`);

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const SPACING = { rowMm: 0.1, colMm: 0.1 };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON files edited in tests

/**
 * A copy of the shipped model (final model only) whose manifest lists one more stage-2 network, `memberFrom`
 * copied in as refine-m1.onnx, with the given test-time plan; `edit` may change manifest and decoding last.
 */
function ensembleModel(
  memberFrom: string,
  testTime: Json,
  edit: (manifest: Json, decoding: Json) => void = () => {},
): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cvm-ensemble-')), 'cvm13-unet');
  mkdirSync(dir);
  for (const f of ['locate.onnx', 'refine.onnx']) copyFileSync(path.join(SHIPPED, f), path.join(dir, f));
  copyFileSync(memberFrom, path.join(dir, 'refine-m1.onnx'));
  const manifest = JSON.parse(readFileSync(path.join(SHIPPED, 'manifest.json'), 'utf8')) as Json;
  const decoding = JSON.parse(readFileSync(path.join(SHIPPED, 'decoding.json'), 'utf8')) as Json;
  manifest.stages.refine.ensemble = [{ file: 'refine-m1.onnx', sha256: sha(path.join(dir, 'refine-m1.onnx')) }];
  decoding.testTime = { rotationsDeg: [], shapeWeight: 0, searchRadiusMm: 3, ...testTime };
  edit(manifest, decoding);
  writeFileSync(path.join(dir, 'decoding.json'), JSON.stringify(decoding));
  manifest.decoding = { file: 'decoding.json', sha256: sha(path.join(dir, 'decoding.json')) };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

async function runnerOf(file: string, spec: StageSpec): Promise<StageRunner> {
  const s = await createStageSession(readFileSync(file), spec, ['cpu']);
  return async (input) =>
    (await s.session.run({ [spec.input.name]: new ort.Tensor('float32', input, [...spec.input.shape]) }))[
      spec.output.name
    ]!.data as Float32Array;
}

/** The app's pipeline on the image with the model folder's networks (all members) and decoding file. */
async function analyse(dir: string, image: PipelineImage): Promise<PipelineOutput> {
  const model = verifyModel(dir);
  const { locate, refine } = model.manifest.stages;
  const members = refineMembers(refine);
  const files = [model.files.refine, ...model.files.refineMembers];
  const runners = await Promise.all(members.map((spec, i) => runnerOf(files[i]!, spec)));
  return runPipeline(model.manifest, await runnerOf(model.files.locate, locate), runners[0]!, image, SPACING, {
    decoding: model.decoding,
    orientation: 'as-stored',
    refineMembers: runners.slice(1),
  });
}

const mm = (a: { x: number; y: number }, b: { x: number; y: number }): number =>
  Math.hypot(a.x - b.x, a.y - b.y) * SPACING.colMm;

describe.skipIf(!HAS_MODEL || !HAS_SHARED_DATA)('a stage-2 ensemble on a real cephalogram', () => {
  let image: PipelineImage;
  beforeAll(async () => {
    const file = sharedPath('isbi2015', 'images', '018.jpg');
    image = pipelineImageOf(await decodeImageFile('018.jpg', readFileSync(file)));
  });

  it('a second member identical to the first changes nothing and disagrees by 0 mm', async () => {
    const copyOfSelf = path.join(SHIPPED, 'refine.onnx');
    const alone = await analyse(ensembleModel(copyOfSelf, { passes: [{ member: 0, rotationDeg: 0 }] }), image);
    for (const combine of ['coordinates', 'heatmaps']) {
      const both = await analyse(
        ensembleModel(copyOfSelf, {
          combine,
          passes: [
            { member: 0, rotationDeg: 0 },
            { member: 1, rotationDeg: 0 },
          ],
        }),
        image,
      );
      both.landmarks.forEach((l, c) => {
        expect(l.x).toBeCloseTo(alone.landmarks[c]!.x, 9);
        expect(l.y).toBeCloseTo(alone.landmarks[c]!.y, 9);
      });
      expect(both.uncertainty.map((u) => u.memberSpreadMm)).toEqual(both.uncertainty.map(() => 0));
    }
    expect(alone.uncertainty.every((u) => u.memberSpreadMm === 0)).toBe(true);
  }, 120_000);

  it('two different members: each point is the mean of the two, their disagreement is half their distance', async () => {
    const only = (member: number): Json => ({ passes: [{ member, rotationDeg: 0 }] });
    const a = await analyse(ensembleModel(OTHER_NETWORK, only(0)), image);
    const b = await analyse(ensembleModel(OTHER_NETWORK, only(1)), image);
    const both = await analyse(
      ensembleModel(OTHER_NETWORK, {
        passes: [
          { member: 0, rotationDeg: 0 },
          { member: 1, rotationDeg: 0 },
        ],
      }),
      image,
    );
    let compared = 0;
    both.landmarks.forEach((l, c) => {
      const pa = a.landmarks[c]!;
      const pb = b.landmarks[c]!;
      // Member 1's point is its peak within 3 mm of member 0's choice: its own choice when the two agree that well.
      if (mm(pa, pb) > 2.5) return;
      compared++;
      expect(l.x).toBeCloseTo((pa.x + pb.x) / 2, 6);
      expect(l.y).toBeCloseTo((pa.y + pb.y) / 2, 6);
      expect(both.uncertainty[c]!.memberSpreadMm).toBeCloseTo(mm(pa, pb) / 2, 6);
    });
    expect(compared).toBeGreaterThanOrEqual(12);
    // The two networks were trained independently (other initialisation and augmentation): they disagree somewhere.
    expect(Math.max(...both.uncertainty.map((u) => u.memberSpreadMm))).toBeGreaterThan(0.05);
    // Member 0's heatmap statistics are kept (the candidates come from its unturned pass).
    both.uncertainty.forEach((u, c) => expect(u.peak).toBeCloseTo(a.uncertainty[c]!.peak, 9));
  }, 120_000);

  it('averaging the heatmaps lands between the members too, and weights the turned passes per pass', async () => {
    const passes = [
      { member: 0, rotationDeg: 0 },
      { member: 1, rotationDeg: 0 },
      { member: 0, rotationDeg: 8 },
    ];
    const coords = await analyse(ensembleModel(OTHER_NETWORK, { passes }), image);
    const maps = await analyse(ensembleModel(OTHER_NETWORK, { passes, combine: 'heatmaps' }), image);
    maps.landmarks.forEach((l, c) => expect(mm(l, coords.landmarks[c]!)).toBeLessThan(0.5));
    // Different rule, different numbers: the test would not notice a combine mode that is ignored otherwise.
    expect(Math.max(...maps.landmarks.map((l, c) => mm(l, coords.landmarks[c]!)))).toBeGreaterThan(1e-4);
    expect(maps.uncertainty.some((u) => u.memberSpreadMm > 0)).toBe(true);
  }, 120_000);

  it('the disagreement raises the expected error by the calibrated coefficient', async () => {
    const dir = ensembleModel(
      OTHER_NETWORK,
      {
        passes: [
          { member: 0, rotationDeg: 0 },
          { member: 1, rotationDeg: 0 },
        ],
      },
      (_m, d) => {
        d.expectedError.memberSpreadLog = 0.5;
      },
    );
    const out = await analyse(dir, image);
    const ee = verifyModel(dir).decoding!.expectedError;
    const without: ExpectedErrorModel = { ...ee, memberSpreadLog: 0 };
    let compared = 0;
    out.landmarks.forEach((l, c) => {
      const u = out.uncertainty[c]!;
      expect(l.expectedErrorMm).toBeCloseTo(expectedErrorMm(ee, l.name, u), 9);
      const withSpread = expectedErrorMm(ee, l.name, u);
      const plain = expectedErrorMm(without, l.name, u);
      // Both clamped at 0 mm below exp(...) = 0.05: the ratio holds for the values before the clamp only.
      if (withSpread === 0 || plain === 0) return;
      // exp(0.5 * log(max(spread, 0.01))) = sqrt(spread): larger for members that disagree more
      expect((withSpread + 0.05) / (plain + 0.05)).toBeCloseTo(Math.sqrt(Math.max(u.memberSpreadMm, 0.01)), 6);
      compared++;
    });
    expect(compared).toBeGreaterThanOrEqual(10);
  }, 120_000);

  it('the worker loads every member: the engine gives what the pipeline gives with all networks', async () => {
    const dir = ensembleModel(OTHER_NETWORK, {
      passes: [
        { member: 0, rotationDeg: 0 },
        { member: 1, rotationDeg: 0 },
        { member: 0, rotationDeg: -8 },
      ],
      shapeWeight: 0.1,
    });
    const direct = await analyse(dir, image);
    const engine = await InferenceEngine.start({ model: verifyModel(dir), providers: ['cpu'] });
    try {
      const p = await engine.analyze(image, SPACING);
      p.landmarks.forEach((l, c) => {
        expect(l.x).toBeCloseTo(direct.landmarks[c]!.x, 6);
        expect(l.y).toBeCloseTo(direct.landmarks[c]!.y, 6);
        expect(l.expectedErrorMm).toBeCloseTo(direct.landmarks[c]!.expectedErrorMm!, 6);
      });
    } finally {
      await engine.close();
    }
  }, 120_000);
});

describe.skipIf(!HAS_MODEL)('ensemble members are checked like the other networks', () => {
  const plan = {
    passes: [
      { member: 0, rotationDeg: 0 },
      { member: 1, rotationDeg: 0 },
    ],
  };

  it('refuses a member file that does not match its manifest, naming the file', () => {
    const dir = ensembleModel(OTHER_NETWORK, plan);
    const bytes = readFileSync(path.join(dir, 'refine-m1.onnx'));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    writeFileSync(path.join(dir, 'refine-m1.onnx'), bytes);
    expect(() => verifyModel(dir)).toThrow(ModelError);
    expect(() => verifyModel(dir)).toThrow(/refine-m1\.onnx does not match its manifest: sha256 is [0-9a-f]{64}/);
  });

  it('refuses a missing member, a decoding file that needs more members, and a member listed twice', () => {
    const missing = ensembleModel(OTHER_NETWORK, plan, (m) => {
      m.stages.refine.ensemble[0].file = 'refine-m9.onnx';
    });
    expect(() => verifyModel(missing)).toThrow(
      /refine-m9\.onnx \(stage-2 ensemble member 1 of model "cvm13-unet"\) is missing/,
    );
    const needsThree = ensembleModel(OTHER_NETWORK, { passes: [...plan.passes, { member: 2, rotationDeg: 8 }] });
    expect(() => verifyModel(needsThree)).toThrow(/test-time passes use 3 stage-2 networks, manifest.json lists 2/);
    const twice = JSON.parse(readFileSync(path.join(SHIPPED, 'manifest.json'), 'utf8')) as Json;
    twice.stages.refine.ensemble = [{ file: 'refine.onnx', sha256: twice.stages.refine.sha256 }];
    expect(() => parseManifest(twice)).toThrow(/already a stage-2 network of this model/);
  });

  it('refuses test-time passes without an unturned pass or with a bad member', () => {
    const d = JSON.parse(readFileSync(path.join(SHIPPED, 'decoding.json'), 'utf8')) as Json;
    const names = parseManifest(JSON.parse(readFileSync(path.join(SHIPPED, 'manifest.json'), 'utf8'))).landmarks;
    const withPasses = (passes: unknown, combine?: unknown): Json => ({
      ...d,
      testTime: { ...d.testTime, passes, combine },
    });
    expect(() => parseDecoding(withPasses([{ member: 0, rotationDeg: 8 }]), names)).toThrow(
      /at least one unturned pass/,
    );
    expect(() => parseDecoding(withPasses([{ member: -1, rotationDeg: 0 }]), names)).toThrow(
      /member must be an integer/,
    );
    expect(() => parseDecoding(withPasses(plan.passes, 'median'), names)).toThrow(/combine must be/);
    // Older files (no passes): member 0 unturned, then turned by each of rotationsDeg.
    expect(
      parseDecoding({ ...d, testTime: { rotationsDeg: [-8, 8], shapeWeight: 0.1, searchRadiusMm: 3 } }, names).testTime,
    ).toMatchObject({
      passes: [
        { member: 0, rotationDeg: 0 },
        { member: 0, rotationDeg: -8 },
        { member: 0, rotationDeg: 8 },
      ],
      combine: 'coordinates',
    });
  });
});

describe.skipIf(!HAS_MODEL || !HAS_SHARED_DATA)('a pipeline without the members its decoding file needs', () => {
  it('says which network is missing instead of running member 0 alone', async () => {
    const dir = ensembleModel(OTHER_NETWORK, {
      passes: [
        { member: 0, rotationDeg: 0 },
        { member: 1, rotationDeg: 0 },
      ],
    });
    const model = verifyModel(dir);
    const image = pipelineImageOf(
      await decodeImageFile('018.jpg', readFileSync(sharedPath('isbi2015', 'images', '018.jpg'))),
    );
    const locate = await runnerOf(model.files.locate, model.manifest.stages.locate);
    const refine = await runnerOf(model.files.refine, model.manifest.stages.refine);
    await expect(
      runPipeline(model.manifest, locate, refine, image, SPACING, {
        decoding: model.decoding,
        orientation: 'as-stored',
      }),
    ).rejects.toThrow(/use stage-2 network 1, but 1 is loaded/);
  }, 60_000);
});
