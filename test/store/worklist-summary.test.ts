/**
 * The worklist reads summary columns of the images table (migration 4) that triggers keep equal to the
 * joined patient, study and stage values; these tests change those values every way the store can and
 * compare the columns, the sort orders and the search with what the joins give.
 */
import { describe, expect, it } from 'vitest';
import { STUDY_SORT_FIELDS, type StudySortField } from '../../core/api/studies';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import { syntheticPoints } from '../../main/cli/bench/synthetic';
import type { Store } from '../../main/store/store';
import { MODEL_RUN, addStudy, openStore, tempDir } from './helpers';

const confidences = Object.fromEntries(LANDMARK_NAMES.map((n, i) => [n, 0.95 - i * (0.01 + (n.length % 3) * 0.003)]));

function joinedSummary(store: Store) {
  return store.db
    .prepare(
      `
    SELECT i.id, p.name AS wl_patient_name, p.dicom_patient_id AS wl_patient_id, st.study_date AS wl_study_date,
           st.age_years AS wl_age_years, sr.stage AS wl_stage, sr.kind AS wl_stage_kind,
           lower(coalesce(p.name, '') || char(10) || coalesce(p.dicom_patient_id, '') || char(10) || i.original_name) AS wl_search
    FROM images i JOIN studies st ON st.id = i.study_ref LEFT JOIN patients p ON p.id = st.patient_ref
    LEFT JOIN stage_results sr ON sr.set_ref = i.latest_set_ref ORDER BY i.id`,
    )
    .all();
}

function storedSummary(store: Store) {
  return store.db
    .prepare(
      `SELECT id, wl_patient_name, wl_patient_id, wl_study_date, wl_age_years, wl_stage, wl_stage_kind, wl_search
    FROM images ORDER BY id`,
    )
    .all();
}

/** 24 studies: analysed, edited, reverted, approved, some without landmarks. */
function busyStore(): Store {
  const store = openStore(tempDir());
  for (let i = 0; i < 24; i++) {
    const id = addStudy(store, i);
    if (i % 4 === 0) continue;
    const ai = store.recordModelRun(id, {
      ...MODEL_RUN,
      landmarks: syntheticPoints(i % 2 ? 'CS1' : 'CS4'),
      confidences,
    });
    if (i % 3 === 0) {
      const edit = store.addVersion(id, {
        kind: 'edit',
        points: syntheticPoints(i % 2 ? 'CS4' : 'CS1'),
        author: 'dr a',
        baseVersionId: ai.versionId,
      });
      if (i % 6 === 0) store.revert(id, ai.versionId, 'dr a', edit.versionId);
    }
    if (i % 5 === 0) store.setReviewStatus(id, 'approved', 'dr a');
  }
  return store;
}

describe('worklist summary columns', () => {
  it('equal the joined values after imports, model runs, edits, reverts and reviews', () => {
    const store = busyStore();
    expect(storedSummary(store)).toEqual(joinedSummary(store));
    expect(
      storedSummary(store).filter((r) => (r as { wl_stage: string | null }).wl_stage !== null).length,
    ).toBeGreaterThan(10);
  });

  it('follow a patient or study changed later (a re-imported patient gains a name, a study its date)', () => {
    const store = busyStore();
    store.db.prepare("UPDATE patients SET name = 'Renamed^Patient' WHERE id = (SELECT MIN(id) FROM patients)").run();
    store.db
      .prepare("UPDATE studies SET study_date = '2001-02-03', age_years = 9.5 WHERE id = (SELECT MAX(id) FROM studies)")
      .run();
    store.db
      .prepare('UPDATE images SET study_ref = (SELECT MIN(id) FROM studies) WHERE id = (SELECT MAX(id) FROM images)')
      .run();
    expect(storedSummary(store)).toEqual(joinedSummary(store));
    expect(store.listStudies({ offset: 0, limit: 50, search: 'renamed' }).total).toBeGreaterThan(0);
  });

  it('fill in when a database of schema 3 is upgraded', () => {
    const dir = tempDir();
    const old = openStore(dir, { migrateTo: 3 });
    for (let i = 0; i < 6; i++) {
      const id = addStudy(old, i);
      old.recordModelRun(id, { ...MODEL_RUN, landmarks: syntheticPoints(i % 2 ? 'CS1' : 'CS4'), confidences });
    }
    old.close();
    const upgraded = openStore(dir);
    expect(storedSummary(upgraded)).toEqual(joinedSummary(upgraded));
    expect(upgraded.listStudies({ offset: 0, limit: 50, search: 'ceph' }).total).toBe(6);
  });

  it("carry the model's verdict and largest expected error, also after an upgrade from schema 9", () => {
    const dir = tempDir();
    const old = openStore(dir, { migrateTo: 9 });
    const quality = (i: number): unknown => ({
      verdict: i % 2 ? 'uncertain' : 'ok',
      expectedErrorMm: { C2p: 0.25, C4m: 0.5 + i / 4 },
    });
    for (let i = 0; i < 4; i++) {
      const id = addStudy(old, i);
      old.recordModelRun(id, { ...MODEL_RUN, landmarks: syntheticPoints('CS4'), confidences, quality: quality(i) });
    }
    old.close();
    const upgraded = openStore(dir);
    const id = addStudy(upgraded, 4);
    upgraded.recordModelRun(id, { ...MODEL_RUN, landmarks: syntheticPoints('CS4'), confidences, quality: quality(4) });
    addStudy(upgraded, 5);
    const rows = upgraded.listStudies({ offset: 0, limit: 50, sort: { field: 'expectedErrorMm', dir: 'asc' } }).rows;
    expect(rows.map((r) => [r.aiVerdict, r.maxExpectedErrorMm])).toEqual([
      ['ok', 0.5],
      ['uncertain', 0.75],
      ['ok', 1],
      ['uncertain', 1.25],
      ['ok', 1.5],
      [null, null],
    ]);
  });
});

describe('worklist through the summary columns', () => {
  const KEY: Record<StudySortField, string> = {
    updatedAt: 'i.updated_at',
    importedAt: 'i.imported_at',
    patientName: 'p.name',
    patientId: 'p.dicom_patient_id',
    studyDate: 'st.study_date',
    ageYears: 'st.age_years',
    stage: 'sr.stage',
    reviewStatus: 'i.review_status',
    expectedErrorMm: 'i.ai_max_expected_mm',
    fileName: 'i.original_name',
    stageProbability: 'sr.probability',
  };

  it.each(
    STUDY_SORT_FIELDS.flatMap(
      (field) =>
        [
          [field, 'asc'],
          [field, 'desc'],
        ] as const,
    ),
  )('sorted by %s %s, pages give the joined order (nulls last)', (field, dir) => {
    const store = busyStore();
    const key = KEY[field];
    const expected = (
      store.db
        .prepare(
          `SELECT i.id FROM images i JOIN studies st ON st.id = i.study_ref
      LEFT JOIN patients p ON p.id = st.patient_ref LEFT JOIN stage_results sr ON sr.set_ref = i.latest_set_ref
      ORDER BY ${key} IS NULL, ${key} ${dir}, i.id ${dir}`,
        )
        .all() as Array<{ id: number }>
    ).map((r) => r.id);
    const ids = [0, 7, 14, 21].flatMap((offset) =>
      store.listStudies({ offset, limit: 7, sort: { field, dir } }).rows.map((r) => r.imageId),
    );
    expect(ids).toEqual(expected);
  });

  it('searches words of any length as substrings, case-insensitively, every word required', () => {
    const store = busyStore();
    const like = (word: string) =>
      (
        store.db
          .prepare(
            `SELECT COUNT(*) AS n FROM images i JOIN studies st ON st.id = i.study_ref
      LEFT JOIN patients p ON p.id = st.patient_ref
      WHERE p.name LIKE ? OR p.dicom_patient_id LIKE ? OR i.original_name LIKE ?`,
          )
          .get(`%${word}%`, `%${word}%`, `%${word}%`) as { n: number }
      ).n;
    for (const word of ['schmidt', 'SCHM', 'ph-1', '-1', '7', 'p00000', 'zzz']) {
      expect(store.listStudies({ offset: 0, limit: 50, search: word }).total, word).toBe(like(word));
    }
    // Small pages of a common word walk the sort index; the whole list collects the matches: same rows, same order.
    const all = store.listStudies({ offset: 0, limit: 50, search: 'ceph' }).rows.map((r) => r.imageId);
    const paged = [0, 3, 6, 9, 12, 15, 18, 21].flatMap((offset) =>
      store.listStudies({ offset, limit: 3, search: 'ceph' }).rows.map((r) => r.imageId),
    );
    expect(all).toHaveLength(24);
    expect(paged).toEqual(all);
    const both = store.listStudies({ offset: 0, limit: 50, search: 'ceph-1 schmidt' });
    expect(
      both.rows.every((r) => r.fileName.includes('ceph-1') && (r.patientName ?? '').toLowerCase().includes('schmidt')),
    ).toBe(true);
  });
});

describe('counting search results', () => {
  it('the trigram index and the scan of the search text count the same, whatever the other filters', async () => {
    const { listStudiesQuery } = await import('../../main/store/worklist');
    const store = busyStore();
    for (const request of [
      { search: 'schmidt' },
      { search: 'ceph-1 schm' },
      { search: 'p00000', stage: 'CS4' as const },
      { search: 'ceph', dateFrom: '2016-01-01' },
    ]) {
      const q = listStudiesQuery({ offset: 0, limit: 50, ...request });
      if (!q.scan) throw new Error('a search of 3+ characters has a scan form');
      const viaIndex = (store.db.prepare(q.countSql).get(...q.params) as { n: number }).n;
      const viaScan = (store.db.prepare(q.scan.countSql).get(...q.scan.params) as { n: number }).n;
      expect(viaScan, JSON.stringify(request)).toBe(viaIndex);
      expect(viaIndex, JSON.stringify(request)).toBe(store.listStudies({ offset: 0, limit: 50, ...request }).total);
    }
  });
});

describe('choosing how to find a page of search results', () => {
  it.each([
    [10_000, 100_000, 0, 50, true], // one study in ten matches: a page is found after about 500 rows
    [20, 100_000, 0, 50, false], // rare: collect the 20 matches
    [10_000, 100_000, 9_950, 50, false], // deep page of a common word: collecting is cheaper than walking 100,000 rows
  ])('%i matches of %i rows at offset %i (limit %i): walk %s', async (matches, rows, offset, limit, walk) => {
    const { preferWalk } = await import('../../main/store/worklist');
    expect(preferWalk(matches, rows, offset, limit)).toBe(walk);
  });
});
