import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { syntheticInfo, syntheticPoints } from '../../main/cli/bench/synthetic';
import { readKind } from '../../main/store/boneage';
import { StoreError } from '../../main/store/errors';
import { MODEL_RUN, openStore, tempDir } from './helpers';

const newImage = (i: number) => ({
  sha256: createHash('sha256').update(`writer ${i}`).digest('hex'),
  storedPath: `images/w-${i}.dcm`,
  originalName: `w-${i}.dcm`,
  byteSize: 1000,
  info: syntheticInfo(i),
  author: 'tester',
});

describe('the store workers (worker threads with their own connections: writer and worklist reader)', () => {
  it('records imports and model runs off this thread; this connection reads them at once', async () => {
    const store = openStore(tempDir(), { writerWorker: true });
    const saved = await store.insertImageOffThread(newImage(1));
    expect(saved.duplicate).toBe(false);
    expect(await store.insertImageOffThread(newImage(1))).toEqual({ ...saved, duplicate: true });
    const run = await store.recordModelRunOffThread(saved.imageId, {
      ...MODEL_RUN,
      landmarks: syntheticPoints('CS4'),
      confidences: {},
    });
    expect(run.stage).toMatchObject({ kind: 'stage', stage: 'CS4' });
    const study = store.loadStudy(saved.imageId);
    expect(study.latest?.versionId).toBe(run.versionId);
    expect(store.auditLog(saved.imageId).map((a) => a.action)).toEqual(['model-run', 'import']);
    // The writes ran on the worker's connection: this one timed none of them.
    const here = store.sql.timings.summary().map((e) => e.name);
    expect(here).not.toContain('record an imported file');
    expect(here).not.toContain('record the model run');
    expect(here).toContain('load the study');
    const kind = {
      kind: 'cephalogram' as const,
      uncertain: false,
      probabilities: { cephalogram: 0.9, hand: 0.05, other: 0.05 },
      model: { id: 'radiograph-kind', version: '1', sha256: 'cd'.repeat(32) },
    };
    await store.writeKindOffThread(saved.imageId, kind);
    expect(readKind(store, saved.imageId)).toEqual(kind);
  });

  it("turns the worker's store errors into the same StoreError", async () => {
    const store = openStore(tempDir(), { writerWorker: true });
    const error = await store
      .recordModelRunOffThread(999, { ...MODEL_RUN, landmarks: syntheticPoints('CS4'), confidences: {} })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'not-found', problem: 'not-found' });
    expect((error as Error).message).toMatch(/There is no image 999/);
  });

  it('reads the worklist in the reader worker, which sees every write of either connection', async () => {
    const store = openStore(tempDir(), { writerWorker: true });
    const request = { offset: 0, limit: 50, sort: { field: 'importedAt' as const, dir: 'asc' as const } };
    expect(await store.listStudiesOffThread(request)).toEqual({ total: 0, rows: [] });
    const first = await store.insertImageOffThread(newImage(4)); // the writer's connection
    await store.recordModelRunOffThread(first.imageId, {
      ...MODEL_RUN,
      landmarks: syntheticPoints('CS4'),
      confidences: {},
    });
    const second = store.insertImage(newImage(5)); // this one
    store.setReviewStatus(second.imageId, 'in-progress', 'tester');
    const page = await store.listStudiesOffThread(request);
    expect(page).toEqual(store.listStudies(request));
    expect(page.rows.map((r) => [r.imageId, r.stage, r.reviewStatus])).toEqual([
      [first.imageId, 'CS4', 'unreviewed'],
      [second.imageId, null, 'in-progress'],
    ]);
    // The read ran on the reader's connection: this one timed only its own listStudies above.
    const lists = store.sql.timings.summary().find((e) => e.name === 'list the studies');
    expect(lists?.count).toBe(1);
  });

  it('without workers the same calls run on this connection', async () => {
    const store = openStore(tempDir());
    const saved = await store.insertImageOffThread(newImage(2));
    expect(store.sql.timings.summary().map((e) => e.name)).toContain('record an imported file');
    expect(store.loadStudy(saved.imageId).imageId).toBe(saved.imageId);
    expect((await store.listStudiesOffThread({ offset: 0, limit: 10 })).total).toBe(1);
    expect(store.sql.timings.summary().map((e) => e.name)).toContain('list the studies');
  });

  it('a write or a worklist read after close fails clearly', async () => {
    const store = openStore(tempDir(), { writerWorker: true });
    store.close();
    await expect(store.insertImageOffThread(newImage(3))).rejects.toThrow(/Could not write to .*the store was closed/);
    await expect(store.listStudiesOffThread({ offset: 0, limit: 10 })).rejects.toThrow(
      /Could not read .*the store was closed/,
    );
  });
});
