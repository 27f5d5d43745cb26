/**
 * The inference worker started ahead (main/inference/prestart.ts, as `cvm analyze` does before its code
 * loads): the engine adopts it and answers exactly as with a worker of its own; a prestarted worker that died
 * is never adopted, and the engine starts its own.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceEngine, verifyModel } from '../../main/inference/index';
import { prestartInferenceWorker, takePrestartedWorker } from '../../main/inference/prestart';
import { spotImage, TINY_MODEL_DIR } from './helpers';

const model = verifyModel(TINY_MODEL_DIR);
const image = spotImage(300, 500, 120.3, 310.7, 12);
const spacing = { rowMm: 0.1, colMm: 0.1 };

describe('prestarted inference worker', () => {
  it('is adopted by the engine, which then answers as with a worker of its own', async () => {
    const own = await InferenceEngine.start({ model, providers: ['cpu'] });
    const expected = await own.analyze(image, spacing);
    await own.close();

    prestartInferenceWorker();
    const engine = await InferenceEngine.start({ model, providers: ['cpu'] });
    try {
      expect(takePrestartedWorker()).toBeNull(); // taken by the engine
      const got = await engine.analyze(image, spacing);
      expect(got.landmarks).toEqual(expected.landmarks);
      expect(got.roiScale).toEqual(expected.roiScale);
    } finally {
      await engine.close();
    }
  });

  it('is not adopted once it has died: the engine starts its own', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-prestart-'));
    const broken = path.join(dir, 'broken-worker.cjs');
    writeFileSync(broken, "throw new Error('this worker fails as it starts');\n");
    const saved = process.env.CVM_INFERENCE_WORKER;
    process.env.CVM_INFERENCE_WORKER = broken;
    try {
      prestartInferenceWorker();
    } finally {
      if (saved === undefined) delete process.env.CVM_INFERENCE_WORKER;
      else process.env.CVM_INFERENCE_WORKER = saved;
    }
    // Wait until the broken worker has failed (it is unref'd, so nothing else waits for it).
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const engine = await InferenceEngine.start({ model, providers: ['cpu'] });
    try {
      const p = await engine.analyze(image, spacing);
      expect(Math.hypot(p.landmarks[0]!.x - 120.3, p.landmarks[0]!.y - 310.7)).toBeLessThan(0.1);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
