/**
 * The whole-image models run through a landmark engine's worker (the command line's analysis: ONNX Runtime in one
 * thread only, no worker of their own) give exactly their own worker's results, really start no worker of their
 * own, and follow the engine's queue, close and crash handling.
 */
import { appendFileSync, cpSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GreyImage } from '../../core/boneage/index';
import { decodeImageFile } from '../../main/dicom/index';
import {
  appModelsDir,
  greyImageOf,
  InferenceEngine,
  openWholeImageModels,
  verifyModel,
  type WholeImageModels,
} from '../../main/inference/index';
import { HAS_SHARED_DATA, sharedPath, SKIP_NO_SHARED } from '../shared-data';
import { TINY_MODEL_DIR } from './helpers';

const APP = [{ dir: appModelsDir(), source: 'app' as const }];

async function grey(file: string): Promise<GreyImage> {
  return greyImageOf(await decodeImageFile(path.basename(file), readFileSync(file)));
}

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  delete process.env.CVM_WHOLE_IMAGE_WORKER;
  for (const c of closing.splice(0).reverse()) await c.close();
});

async function engine(): Promise<InferenceEngine> {
  const e = await InferenceEngine.start({ model: verifyModel(TINY_MODEL_DIR), providers: ['cpu'] });
  closing.push(e);
  return e;
}

function open(runner?: InferenceEngine): WholeImageModels {
  const models = openWholeImageModels(APP, runner ? { runner } : {});
  closing.push(models);
  return models;
}

const blank = (value: number): GreyImage => ({
  width: 8,
  height: 8,
  data: new Uint16Array(64).fill(value),
  window: null,
});

describe('whole-image models through the landmark engine', () => {
  it.skipIf(!HAS_SHARED_DATA)(
    `their own worker's kind probabilities and bone age, to the last bit ${SKIP_NO_SHARED}`,
    async () => {
      const hand = await grey(sharedPath('boneage', 'rsna-sample', '7035.png'));
      const ceph = await grey(sharedPath('isbi2015', 'images', '001.jpg'));
      const own = open();
      const viaEngine = open(await engine());
      for (const image of [hand, ceph]) {
        const a = await own.classifyRadiograph(image);
        const b = await viaEngine.classifyRadiograph(image);
        expect({ ...b, timings: null }).toEqual({ ...a, timings: null });
      }
      const ageA = await own.estimateBoneAge(hand, 'F');
      const ageB = await viaEngine.estimateBoneAge(hand, 'F');
      expect({ ...ageB, timings: null }).toEqual({ ...ageA, timings: null });
    },
    120_000,
  );

  it('starts no worker of their own: a whole-image worker entry that does not exist stops only the other', async () => {
    process.env.CVM_WHOLE_IMAGE_WORKER = path.join(appModelsDir(), 'no-such-worker.cjs');
    await expect(open().classifyRadiograph(blank(30000))).rejects.toThrow();
    const r = await open(await engine()).classifyRadiograph(blank(30000));
    expect(Object.keys(r.probabilities).sort()).toEqual(['cephalogram', 'hand', 'other']);
  });

  it('runs queued jobs in order, and refuses runs once the models or the engine are closed', async () => {
    const e = await engine();
    const models = open(e);
    const results = (await Promise.all([1, 2, 3].map(() => models.classifyRadiograph(blank(0))))).map((r) => ({
      ...r,
      timings: null,
    }));
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    await models.close();
    await expect(models.classifyRadiograph(blank(0))).rejects.toThrow(/closed/);
    const again = open(e);
    await e.close();
    await expect(again.classifyRadiograph(blank(0))).rejects.toThrow(/inference engine is closed/);
  });

  it('hands the checked model bytes over, and refuses a model file changed after its check', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-kind-copy-'));
    cpSync(path.join(appModelsDir(), 'radiograph-kind'), path.join(dir, 'radiograph-kind'), { recursive: true });
    const models = openWholeImageModels([{ dir, source: 'user' }], { runner: await engine() });
    closing.push(models);
    expect(models.kindModel?.file).toBe(path.join(dir, 'radiograph-kind', 'kind.onnx')); // checked now
    appendFileSync(path.join(dir, 'radiograph-kind', 'kind.onnx'), Buffer.from([0]));
    await expect(models.classifyRadiograph(blank(0))).rejects.toThrow(
      /kind\.onnx changed since it was checked: sha256 is [0-9a-f]{64}, manifest says /,
    );
  });

  it('fails a run in flight with a clear error when the worker dies, and runs the next on the restarted one', async () => {
    const e = await engine();
    const models = open(e);
    e.crashWorker();
    await expect(models.classifyRadiograph(blank(0))).rejects.toThrow(
      /inference worker crashed while analysing an image with .*radiograph-kind/,
    );
    const r = await models.classifyRadiograph(blank(30000));
    expect(e.restarts).toBe(1);
    expect(Object.keys(r.probabilities).sort()).toEqual(['cephalogram', 'hand', 'other']);
  });
});
