/**
 * The whole-image models run in the calling thread (the command line's analysis: no worker thread, no second
 * ONNX Runtime module for a 100x100 model) give exactly the worker's results, and really start no worker.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GreyImage } from '../../core/boneage/index';
import { decodeImageFile } from '../../main/dicom/index';
import { appModelsDir, greyImageOf, openWholeImageModels, type WholeImageModels } from '../../main/inference/index';
import { HAS_SHARED_DATA, sharedPath, SKIP_NO_SHARED } from '../shared-data';

const APP = [{ dir: appModelsDir(), source: 'app' as const }];

async function grey(file: string): Promise<GreyImage> {
  return greyImageOf(await decodeImageFile(path.basename(file), readFileSync(file)));
}

const opened: WholeImageModels[] = [];
afterEach(async () => {
  delete process.env.CVM_WHOLE_IMAGE_WORKER;
  await Promise.all(opened.splice(0).map((m) => m.close()));
});

function open(inThread: boolean): WholeImageModels {
  const models = openWholeImageModels(APP, { inThread });
  opened.push(models);
  return models;
}

describe('whole-image models in the calling thread', () => {
  it.skipIf(!HAS_SHARED_DATA)(
    `the worker's kind probabilities and bone age, to the last bit ${SKIP_NO_SHARED}`,
    async () => {
      const hand = await grey(sharedPath('boneage', 'rsna-sample', '7035.png'));
      const ceph = await grey(sharedPath('isbi2015', 'images', '001.jpg'));
      const worker = open(false);
      const inThread = open(true);
      for (const image of [hand, ceph]) {
        const a = await worker.classifyRadiograph(image);
        const b = await inThread.classifyRadiograph(image);
        expect({ ...b, timings: null }).toEqual({ ...a, timings: null });
      }
      const ageA = await worker.estimateBoneAge(hand, 'F');
      const ageB = await inThread.estimateBoneAge(hand, 'F');
      expect({ ...ageB, timings: null }).toEqual({ ...ageA, timings: null });
    },
    120_000,
  );

  it('starts no worker thread: a worker entry that does not exist stops the worker engine, not this one', async () => {
    const image: GreyImage = { width: 8, height: 8, data: new Uint16Array(64).fill(30000), window: null };
    process.env.CVM_WHOLE_IMAGE_WORKER = path.join(appModelsDir(), 'no-such-worker.cjs');
    await expect(open(false).classifyRadiograph(image)).rejects.toThrow();
    const r = await open(true).classifyRadiograph(image);
    expect(Object.keys(r.probabilities).sort()).toEqual(['cephalogram', 'hand', 'other']);
  });

  it('refuses runs after close, and runs queued jobs in order', async () => {
    const models = open(true);
    const image: GreyImage = { width: 8, height: 8, data: new Uint16Array(64), window: null };
    const results = (await Promise.all([1, 2, 3].map(() => models.classifyRadiograph(image)))).map((r) => ({
      ...r,
      timings: null,
    }));
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    await models.close();
    await expect(models.classifyRadiograph(image)).rejects.toThrow(/closed/);
  });
});
