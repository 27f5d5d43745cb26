import { describe, expect, it } from 'vitest';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import type { LandmarkPoints } from '../../core/api/studies';
import { syntheticPoints } from '../../main/cli/bench/synthetic';
import { MODEL_RUN, addStudy, openStore, storeError, tempDir } from './helpers';

const confidences = Object.fromEntries(LANDMARK_NAMES.map((n, i) => [n, 0.9 - i * 0.01]));
const cs4 = syntheticPoints('CS4');
const cs1 = syntheticPoints('CS1');

function moved(points: LandmarkPoints, dx: number): LandmarkPoints {
  return { ...points, C3m: [points.C3m![0] + dx, points.C3m![1]] };
}

describe('landmark versions', () => {
  it('a model run creates the ai version with its stage, confidences and run details', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const run = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: cs4, confidences, quality: { flags: [] } });
    expect(run.stage).toMatchObject({ kind: 'stage', stage: 'CS4' });
    const study = store.loadStudy(imageId);
    expect(study.latest?.versionId).toBe(run.versionId);
    expect(study.latest?.kind).toBe('ai');
    expect(study.ai?.modelRun).toMatchObject({
      modelId: 'cvm13-unet',
      provider: 'cpu',
      minConfidence: 0.9 - 12 * 0.01,
    });
    expect(study.ai?.modelRun?.confidences.C2p).toBe(0.9);
    expect(study.review.status).toBe('unreviewed');
  });

  it('each saved edit is a new version on top of the previous one, and the first one starts the review', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const ai = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: cs4, confidences });
    const e1 = store.addVersion(imageId, {
      kind: 'edit',
      points: moved(cs4, 3),
      author: 'dr a',
      baseVersionId: ai.versionId,
      moved: ['C3m'],
    });
    const e2 = store.addVersion(imageId, { kind: 'edit', points: cs1, author: 'dr b', baseVersionId: e1.versionId });
    expect(e1.review.status).toBe('in-progress');
    expect(e2.stage).toMatchObject({ kind: 'stage', stage: 'CS1' });
    const study = store.loadStudy(imageId);
    expect(study.history.map((v) => [v.version, v.kind, v.author])).toEqual([
      [3, 'edit', 'dr b'],
      [2, 'edit', 'dr a'],
      [1, 'ai', 'cvm13-unet 1.0.0'],
    ]);
    expect(study.history[1]!.moved).toEqual(['C3m']);
    expect(study.history[1]!.baseVersionId).toBe(ai.versionId);
    expect(study.ai?.points).toEqual(cs4);
    expect(study.latest?.points).toEqual(cs1);
  });

  it('an edit based on a stale version is refused as a conflict and changes nothing', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const ai = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: cs4, confidences });
    store.addVersion(imageId, { kind: 'edit', points: moved(cs4, 1), author: 'dr a', baseVersionId: ai.versionId });
    const error = storeError(() =>
      store.addVersion(imageId, { kind: 'edit', points: moved(cs4, 2), author: 'dr b', baseVersionId: ai.versionId }),
    );
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/changed elsewhere \(version 2 by dr a/);
    expect(store.loadStudy(imageId).history).toHaveLength(2);
  });

  it('reverting to the ai prediction adds a version equal to it and keeps every earlier one', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const ai = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: cs4, confidences });
    const edit = store.addVersion(imageId, { kind: 'edit', points: cs1, author: 'dr a', baseVersionId: ai.versionId });
    const back = store.revert(imageId, ai.versionId, 'dr a', edit.versionId);
    const study = store.loadStudy(imageId);
    expect(back.version).toBe(3);
    expect(study.latest).toMatchObject({ kind: 'revert', revertedFromVersionId: ai.versionId, points: cs4 });
    expect(study.latest?.stage?.stage).toBe('CS4');
    expect(study.history.find((v) => v.versionId === edit.versionId)?.points).toEqual(cs1);
  });

  it('reverting to a version of another image is refused', () => {
    const store = openStore(tempDir());
    const a = addStudy(store, 1);
    const b = addStudy(store, 2);
    const ai = store.recordModelRun(a, { ...MODEL_RUN, landmarks: cs4, confidences });
    expect(storeError(() => store.revert(b, ai.versionId, 'dr a')).code).toBe('not-found');
  });

  it('a stored version cannot be changed or deleted, even with SQL', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: cs4, confidences });
    expect(() => store.db.prepare("UPDATE landmark_sets SET author = 'x'").run()).toThrow(/never changed/);
    expect(() => store.db.prepare('DELETE FROM landmark_sets').run()).toThrow(/never deleted/);
  });

  it('a new model run after a human edit is kept for comparison without replacing the edit', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const ai = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: cs4, confidences });
    const edit = store.addVersion(imageId, { kind: 'edit', points: cs1, author: 'dr a', baseVersionId: ai.versionId });
    const rerun = store.recordModelRun(imageId, {
      ...MODEL_RUN,
      modelVersion: '1.1.0',
      landmarks: moved(cs4, 2),
      confidences,
    });
    const study = store.loadStudy(imageId);
    expect(study.latest?.versionId).toBe(edit.versionId);
    expect(study.ai?.versionId).toBe(rerun.versionId);
  });
});

describe('review, calibration and audit', () => {
  it('approving records who and when; a later edit withdraws the approval', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const ai = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: cs4, confidences });
    const approved = store.setReviewStatus(imageId, 'approved', 'dr a');
    expect(approved).toMatchObject({ status: 'approved', by: 'dr a' });
    store.addVersion(imageId, { kind: 'edit', points: cs1, author: 'dr b', baseVersionId: ai.versionId });
    expect(store.loadStudy(imageId).review).toEqual({ status: 'in-progress', by: null, at: null });
    const log = store.auditLog(imageId);
    expect(log.map((e) => e.action)).toEqual(['edit', 'review', 'model-run', 'import']);
    expect(log[0]!.summary).toMatch(/CS4 \(\d+%\) -> CS1 \(\d+%\); approval withdrawn/);
  });

  it('an image without landmarks cannot be approved', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    expect(storeError(() => store.setReviewStatus(imageId, 'approved', 'dr a')).code).toBe('invalid-request');
  });

  it('a calibration overrides the file spacing, is audit-logged, and clearing it restores the file spacing', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: cs4, confidences });
    const set = store.setCalibration(
      imageId,
      { rowMm: 0.125, colMm: 0.125, method: 'two-points', detail: 'ruler 10 mm' },
      'dr a',
    );
    expect(set.spacing).toMatchObject({ rowMm: 0.125, colMm: 0.125, source: 'calibration' });
    expect(store.loadStudy(imageId).info.spacing?.source).toBe('calibration');
    expect(store.loadStudy(imageId).fileSpacing?.source).toBe('PixelSpacing');
    const cleared = store.setCalibration(imageId, null, 'dr a');
    expect(cleared.spacing).toMatchObject({ rowMm: 0.1, source: 'PixelSpacing' });
    expect(
      store
        .auditLog(imageId)
        .slice(0, 2)
        .map((e) => e.summary),
    ).toEqual(['calibration cleared', 'calibration 0.125 mm/pixel (two-points: ruler 10 mm)']);
  });

  it('the user name defaults to the operating-system user and can be set', () => {
    const store = openStore(tempDir());
    expect(store.userName().length).toBeGreaterThan(0);
    store.setSetting('userName', 'Dr. Keller', 'admin');
    expect(store.userName()).toBe('Dr. Keller');
  });

  it('the same patient id in two studies is one patient', () => {
    const store = openStore(tempDir());
    addStudy(store, 0);
    addStudy(store, 1); // syntheticInfo: studies 0-2 belong to patient 0
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM patients').get()).toEqual({ n: 1 });
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM studies').get()).toEqual({ n: 2 });
  });
});

describe('worklist', () => {
  function worklistStore() {
    const store = openStore(tempDir());
    for (let i = 0; i < 30; i++) {
      const id = addStudy(store, i);
      if (i % 3 === 0) continue; // no landmarks
      const ai = store.recordModelRun(id, {
        ...MODEL_RUN,
        landmarks: i % 3 === 1 ? cs1 : cs4,
        confidences,
        quality: { verdict: i % 2 ? 'uncertain' : 'ok', expectedErrorMm: { C2p: 0.4, C3m: 0.5 + i / 10, C4m: 0.6 } },
      });
      if (i % 5 === 0) store.setReviewStatus(id, 'approved', 'dr a');
      else if (i % 7 === 0)
        store.addVersion(id, { kind: 'edit', points: cs4, author: 'dr a', baseVersionId: ai.versionId });
    }
    return store;
  }
  const page = { offset: 0, limit: 100 };

  it.each([
    // i % 3 == 1 predicted CS1 (10), i % 3 == 2 CS4 (10); the edits of 7 and 28 turn two CS1 into CS4.
    ['stage CS1', { stage: 'CS1' as const }, 8],
    ['stage CS4', { stage: 'CS4' as const }, 12],
    ['no stage', { stage: 'none' as const }, 10],
    ['approved', { reviewStatus: 'approved' as const }, 4],
    ['in progress', { reviewStatus: 'in-progress' as const }, 3],
    ['search by patient id', { search: 'p000002' }, 3],
    ['search by name part', { search: 'schmidt' }, 3],
    ['search by given and family name in any order', { search: 'anna  SCHMIDT' }, 3],
    ['date range', { dateFrom: '2016-01-01', dateTo: '2016-12-31' }, 3],
    ['a search with a LIKE wildcard matches literally', { search: '%' }, 0],
  ])('filters by %s', (_name, filter, expected) => {
    const store = worklistStore();
    const result = store.listStudies({ ...page, ...filter });
    expect(result.total).toBe(expected);
    expect(result.rows).toHaveLength(expected);
  });

  it('pages are disjoint and together hold every study once, in the requested order', () => {
    const store = worklistStore();
    const sort = { field: 'patientName' as const, dir: 'asc' as const };
    const ids = [0, 10, 20].flatMap((offset) =>
      store.listStudies({ offset, limit: 10, sort }).rows.map((r) => r.imageId),
    );
    expect(new Set(ids).size).toBe(30);
    const names = [0, 10, 20].flatMap((offset) =>
      store.listStudies({ offset, limit: 10, sort }).rows.map((r) => r.patientName ?? ''),
    );
    expect(names).toEqual([...names].sort());
  });

  it('rows carry the stage, review and confidence the worklist shows', () => {
    const store = worklistStore();
    const row = store.listStudies({ ...page, reviewStatus: 'approved', sort: { field: 'fileName', dir: 'asc' } })
      .rows[0]!;
    expect(row).toMatchObject({
      fileName: 'ceph-10.dcm',
      stage: 'CS1',
      stageLabel: expect.stringMatching(/^CS1 \(\d+%\)$/),
      reviewStatus: 'approved',
      reviewedBy: 'dr a',
      sex: 'M',
    });
    // ceph-10: the model's verdict and largest expected error (C3m 0.5 + 10/10 mm), not the raw peak.
    expect(row).toMatchObject({ aiVerdict: 'ok', maxExpectedErrorMm: 1.5 });
    expect(row).not.toHaveProperty('minConfidence');
  });

  it('sorts by the largest expected error, studies without one last', () => {
    const store = worklistStore();
    const rows = store.listStudies({ ...page, sort: { field: 'expectedErrorMm', dir: 'desc' } }).rows;
    const mm = rows.map((r) => r.maxExpectedErrorMm);
    const known = mm.filter((v): v is number => v !== null);
    expect(known.length).toBe(20);
    expect(known).toEqual([...known].sort((a, b) => b - a));
    expect(mm.slice(known.length).every((v) => v === null)).toBe(true);
  });
});

describe('names taken from the prediction', () => {
  it('an edit keeps as predicted only the names it did not move; a revert to the ai version restores all', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const ai = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: cs4, confidences });
    const edit = store.addVersion(imageId, {
      kind: 'edit',
      points: moved(cs4, 2),
      author: 'dr a',
      baseVersionId: ai.versionId,
    });
    expect(store.loadStudy(imageId).latest?.fromPrediction).toEqual(LANDMARK_NAMES.filter((n) => n !== 'C3m'));
    store.revert(imageId, ai.versionId, 'dr a', edit.versionId);
    expect(store.loadStudy(imageId).latest?.fromPrediction).toEqual([...LANDMARK_NAMES]);
  });
});
