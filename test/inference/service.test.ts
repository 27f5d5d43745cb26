/**
 * The app's analysis service on a real SQLite data folder with the tiny model in the user models folder:
 * analyzeImage records the run and its AI landmark version; a batch reports progress and can be cancelled.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchFinished, BatchProgress } from '../../core/api/analysis';
import { analysisHandlers, closeInferenceEngines, engineFor } from '../../main/services/analysis';
import type { ServiceContext } from '../../main/services/context';
import { closeStudyStores, importFile, storeFor } from '../../main/services/studies';
import { makePng } from '../store/png';
import { spotImage, TINY_MODEL_DIR } from './helpers';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-analysis-'));
cpSync(TINY_MODEL_DIR, path.join(dataDir, 'models', 'tiny'), { recursive: true });
const events: { name: string; payload: unknown }[] = [];
const ctx: ServiceContext = {
  mode: 'cli',
  dataDir,
  appVersion: 'test',
  emit: (name, payload) => events.push({ name, payload }),
};
const handlers = analysisHandlers(ctx);

async function importPng(seed: number): Promise<number> {
  const r = await importFile(storeFor(ctx), `image-${seed}.png`, makePng(320, 400, seed), {
    author: 'test',
    spacingMm: 0.2,
  });
  if (!r.ok) throw new Error(r.error.message);
  return r.imageId;
}

afterAll(async () => {
  await closeInferenceEngines();
  closeStudyStores();
});

describe('analysis service', () => {
  it('lists the model of the user models folder', async () => {
    const r = await handlers.listModels({});
    expect(r.ok && r.value.models.find((m) => m.id === 'tiny')).toMatchObject({ source: 'user', version: '0.0.1' });
  });

  it('analyses a stored image and records the run with its model, provider and AI landmark version', async () => {
    const imageId = await importPng(1);
    const r = await handlers.analyzeImage({ imageId, modelId: 'tiny' });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.imageId).toBe(imageId);
    expect(r.value.spacing).toMatchObject({ rowMm: 0.2, colMm: 0.2 });
    expect(r.value.prediction.landmarks).toHaveLength(13);
    expect(r.value.recorded).not.toBeNull();
    const detail = storeFor(ctx).loadStudy(imageId);
    expect(detail.ai?.versionId).toBe(r.value.recorded!.versionId);
    expect(detail.ai?.modelRun).toMatchObject({
      modelId: 'tiny',
      modelVersion: '0.0.1',
      modelSha256: r.value.prediction.model.manifestSha256,
      provider: 'cpu',
    });
    const first = r.value.prediction.landmarks[0]!;
    expect(detail.ai?.points[first.name]).toEqual([first.x, first.y]);
  });

  it('answers an unknown image with not-found and an unknown model with model-invalid', async () => {
    const missing = await handlers.analyzeImage({ imageId: 987654, modelId: 'tiny' });
    expect(missing.ok ? null : missing.error.code).toBe('not-found');
    const imageId = await importPng(2);
    const noModel = await handlers.analyzeImage({ imageId, modelId: 'no-such-model' });
    expect(noModel.ok ? null : noModel.error).toMatchObject({
      code: 'model-invalid',
      message: expect.stringMatching(/Model "no-such-model" is not available/),
    });
  });

  it('runs a batch with progress events and stops it when cancelled', async () => {
    const ids = await Promise.all([3, 4, 5, 6, 7, 8].map(importPng));
    events.length = 0;
    const started = await handlers.analyzeBatch({ imageIds: ids, modelId: 'tiny' });
    if (!started.ok) throw new Error(started.error.message);
    expect(started.value.total).toBe(6);
    const done = new Promise<BatchFinished>((resolve) => {
      const poll = setInterval(() => {
        const e = events.find((x) => x.name === 'analysisBatchDone');
        if (e) {
          clearInterval(poll);
          resolve(e.payload as BatchFinished);
        }
      }, 10);
    });
    // Cancel once the first image has finished.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (events.some((x) => x.name === 'analysisBatchProgress' && (x.payload as BatchProgress).done >= 1)) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    const cancel = await handlers.cancelBatch({ batchId: started.value.batchId });
    expect(cancel.ok).toBe(true);
    const finished = await done;
    expect(finished.cancelled).toBe(true);
    expect(finished.done).toBeLessThan(6);
    expect(finished.items.every((i) => i.ok)).toBe(true);
    const progress = events.filter((x) => x.name === 'analysisBatchProgress').map((x) => x.payload as BatchProgress);
    expect(progress[0]).toMatchObject({ done: 0, total: 6, current: 'image-3.png', etaMs: null });
    expect(progress[1]!.etaMs).toBeGreaterThan(0);
    const again = await handlers.cancelBatch({ batchId: started.value.batchId });
    expect(again.ok ? null : again.error.code).toBe('not-found');
  });
});

describe('warm engines', () => {
  it('keeps one engine per model and replaces it when the model folder changes', async () => {
    const first = await engineFor(ctx, 'tiny');
    expect(await engineFor(ctx, 'tiny')).toBe(first);
    const manifestPath = path.join(dataDir, 'models', 'tiny', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: '0.0.2' }));
    const second = await engineFor(ctx, 'tiny');
    expect(second).not.toBe(first);
    expect(second.modelRef.version).toBe('0.0.2');
    await expect(first.analyze(spotImage(50, 50, 25, 25, 3), null)).rejects.toThrow(/closed/);
  });
});
