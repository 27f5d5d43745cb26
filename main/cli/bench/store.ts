/**
 * `cvm bench --only store`: databases of 1,000, 10,000 and 100,000 studies (`--studies N` sets the largest;
 * `--quick` stops at 1,000) with 5 landmark versions each (an AI prediction and 4 saved edits), built in a
 * temporary folder, then the worklist queries, loading a study and saving an edit at each size, each a
 * median, and how each query grew from the smallest size to the largest.
 *
 * The first 1,000 studies go through the store's own code (import, model run, edits, review); larger sizes
 * copy them with SQL (new ids, patient ids, dates and hashes) so that 100,000 studies take seconds to make,
 * not an hour; the copies go through the same triggers and indexes as real rows.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ListStudiesRequest } from '../../../core/api/studies';
import { LANDMARK_NAMES } from '../../../core/landmarks/index';
import { DATABASE_FILE_NAME, Store } from '../../store/store';
import type { BenchFigure } from '../command';
import { medianMs } from './measure';
import { progressLine } from '../progress';
import type { BenchArea } from './index';
import { syntheticInfo, syntheticPoints } from './synthetic';

const VERSIONS_PER_STUDY = 5;
const COMMIT_EVERY = 500;

/** A deterministic pseudo-random sequence, so every run builds the same database. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function buildDatabase(store: Store, studies: number): void {
  const random = lcg(42);
  const jitter = () => (random() - 0.5) * 6;
  const confidences = () => Object.fromEntries(LANDMARK_NAMES.map((n) => [n, 0.5 + random() / 2]));
  // Batches of studies per outer transaction (the store's own transactions nest as savepoints): building is
  // not what is measured, and 50,000 separate fsyncs would take minutes.
  for (let start = 0; start < studies; start += COMMIT_EVERY) {
    store.db.exec('BEGIN IMMEDIATE');
    for (let i = start; i < Math.min(studies, start + COMMIT_EVERY); i++) {
      const info = syntheticInfo(i);
      const { imageId } = store.insertImage({
        sha256: createHash('sha256').update(`bench study ${i}`).digest('hex'),
        storedPath: `images/bench-${i}.dcm`,
        originalName: info.fileName,
        byteSize: 9_000_000,
        info,
        author: 'bench',
      });
      const shape = random() < 0.5 ? 'CS1' : 'CS4';
      const ai = store.recordModelRun(imageId, {
        modelId: 'bench-model',
        modelVersion: '1',
        modelSha256: '0'.repeat(64),
        provider: 'cpu',
        timingsMs: { total: 200 },
        landmarks: syntheticPoints(shape, 800, 1700, 4, jitter),
        confidences: confidences(),
      });
      let base = ai.versionId;
      for (let v = 1; v < VERSIONS_PER_STUDY; v++) {
        base = store.addVersion(imageId, {
          kind: 'edit',
          points: syntheticPoints(shape, 800, 1700, 4, jitter),
          author: 'bench',
          baseVersionId: base,
          moved: ['C3m'],
        }).versionId;
      }
      if (random() < 0.4) store.setReviewStatus(imageId, 'approved', 'bench');
    }
    store.db.exec('COMMIT');
  }
}

/** Column -> SQL expression for the copy number :k, per table; other columns are copied as they are. */
type CopyRule = Record<string, string>;

/**
 * Adds copies `fromCopy`..`toCopy - 1` of the first studies (and everything that belongs to them), with
 * ids offset per copy, one transaction per copy.
 */
export function replicateDatabase(
  store: Store,
  base: { patients: number; studies: number; images: number; runs: number; sets: number },
  fromCopy: number,
  toCopy: number,
): void {
  const off = (column: string, n: number) => `CASE WHEN ${column} IS NULL THEN NULL ELSE ${column} + :k * ${n} END`;
  const tables: Array<[string, CopyRule, string]> = [
    [
      'patients',
      { id: off('id', base.patients), dicom_patient_id: "dicom_patient_id || '-' || :k" },
      `id <= ${base.patients}`,
    ],
    [
      'studies',
      {
        id: off('id', base.studies),
        patient_ref: off('patient_ref', base.patients),
        study_instance_uid: "study_instance_uid || '.' || :k",
        study_date: "date(study_date, '-' || ((:k * 37) % 3650) || ' days')",
      },
      `id <= ${base.studies}`,
    ],
    [
      'images',
      {
        id: off('id', base.images),
        study_ref: off('study_ref', base.studies),
        sha256: "substr(sha256, 1, 52) || printf('%012d', :k)",
        stored_path: "'images/bench-' || (id + :k * " + base.images + ") || '.dcm'",
        // Set below, once the landmark sets exist (images and landmark sets refer to each other).
        latest_set_ref: 'NULL',
        ai_set_ref: 'NULL',
      },
      `id <= ${base.images}`,
    ],
    ['image_info', { image_ref: off('image_ref', base.images) }, `image_ref <= ${base.images}`],
    ['model_runs', { id: off('id', base.runs), image_ref: off('image_ref', base.images) }, `id <= ${base.runs}`],
    [
      'landmark_sets',
      {
        id: off('id', base.sets),
        image_ref: off('image_ref', base.images),
        base_ref: off('base_ref', base.sets),
        reverted_from_ref: off('reverted_from_ref', base.sets),
        model_run_ref: off('model_run_ref', base.runs),
      },
      `id <= ${base.sets}`,
    ],
    ['stage_results', { set_ref: off('set_ref', base.sets) }, `set_ref <= ${base.sets}`],
    ['stage_assessments', { set_ref: off('set_ref', base.sets) }, `set_ref <= ${base.sets}`],
  ];
  const statements = tables.map(([table, rule, where]) => {
    // Summary columns (wl_*) are left to the triggers, as for real rows.
    const columns = (store.db.pragma(`table_info(${table})`) as Array<{ name: string }>)
      .map((c) => c.name)
      .filter((c) => !c.startsWith('wl_'));
    return store.db.prepare(
      `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.map((c) => rule[c] ?? c).join(', ')} FROM ${table} WHERE ${where}`,
    );
  });
  const link = store.db.prepare(`UPDATE images SET
      latest_set_ref = (SELECT o.latest_set_ref + :k * ${base.sets} FROM images o WHERE o.id = images.id - :k * ${base.images}),
      ai_set_ref = (SELECT o.ai_set_ref + :k * ${base.sets} FROM images o WHERE o.id = images.id - :k * ${base.images})
    WHERE id > :k * ${base.images} AND id <= (:k + 1) * ${base.images}`);
  for (let k = fromCopy; k < toCopy; k++) {
    store.db.exec('BEGIN IMMEDIATE');
    for (const statement of statements) statement.run({ k });
    link.run({ k });
    store.db.exec('COMMIT');
  }
}

interface Query {
  readonly name: string;
  readonly run: () => unknown;
}

function queriesFor(store: Store, studies: number): Query[] {
  const page =
    (extra: Partial<ListStudiesRequest> = {}) =>
    () =>
      store.listStudies({ offset: 0, limit: 50, ...extra });
  return [
    { name: 'worklist first page (50 rows, newest first)', run: page() },
    { name: 'worklist sorted by patient name', run: page({ sort: { field: 'patientName', dir: 'asc' } }) },
    { name: 'worklist sorted by patient name, descending', run: page({ sort: { field: 'patientName', dir: 'desc' } }) },
    { name: 'worklist filter stage CS4 + approved', run: page({ stage: 'CS4', reviewStatus: 'approved' }) },
    { name: 'worklist search "schmidt"', run: page({ search: 'schmidt' }) },
    {
      name: 'worklist date range, sorted by stage',
      run: page({ dateFrom: '2018-01-01', dateTo: '2019-12-31', sort: { field: 'stage', dir: 'asc' } }),
    },
    { name: 'worklist page in the middle (offset N/2)', run: page({ offset: Math.floor(studies / 2) }) },
    { name: 'load a study (latest, ai, history)', run: () => store.loadStudy(Math.floor(studies / 2)) },
  ];
}

/** The sizes measured: 1,000, then each power of ten up to the largest, then the largest. */
export function benchSizes(largest: number): number[] {
  const sizes: number[] = [];
  for (let n = 1_000; n < largest; n *= 10) sizes.push(n);
  sizes.push(largest);
  return sizes;
}

async function figures(quick: boolean, largest: number): Promise<BenchFigure[]> {
  const sizes = benchSizes(quick ? 1_000 : largest);
  const baseSize = Math.min(1_000, ...sizes);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-bench-store-'));
  const out: BenchFigure[] = [];
  const add = (name: string, ms: number, runs: number, note?: string) =>
    out.push({ area: 'store', name, medianMs: ms, runs, ...(note ? { note } : {}) });
  const first = new Map<string, number>();
  try {
    let store = Store.open(dir, { purpose: 'cvm bench' });
    let buildStart = performance.now();
    buildDatabase(store, baseSize);
    const count = (table: string) =>
      (
        store.db
          .prepare(`SELECT COALESCE(MAX(${table === 'stage_results' ? 'set_ref' : 'id'}), 0) AS n FROM ${table}`)
          .get() as { n: number }
      ).n;
    const baseRows = {
      patients: count('patients'),
      studies: count('studies'),
      images: count('images'),
      runs: count('model_runs'),
      sets: count('landmark_sets'),
    };
    let copies = 1;
    const runs = 21;
    for (const studies of sizes) {
      const wanted = Math.ceil(studies / baseSize);
      if (wanted > copies) {
        progressLine(`store: copying to ${studies} studies`);
        replicateDatabase(store, baseRows, copies, wanted);
        copies = wanted;
      }
      const buildMs = performance.now() - buildStart;
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      store.db.pragma('optimize');
      const sizeMb = statSync(path.join(dir, DATABASE_FILE_NAME)).size / 1e6;
      const n = copies * baseSize;
      add(
        `build ${n} studies x ${VERSIONS_PER_STUDY} versions`,
        buildMs,
        1,
        `${sizeMb.toFixed(1)} MB database; ${n === baseSize ? 'through the store, batched commits' : `copies of the first ${baseSize} in SQL`}`,
      );
      progressLine(`store: measuring at ${n} studies`);
      for (const q of queriesFor(store, n)) {
        const ms = await medianMs(runs, q.run);
        const at = first.get(q.name);
        if (at === undefined) first.set(q.name, ms);
        add(
          `${q.name} @${n}`,
          ms,
          runs,
          at === undefined ? undefined : `x${(ms / at).toFixed(2)} of ${sizes[0]} studies`,
        );
      }
      buildStart = performance.now();
    }
    const studies = copies * baseSize;
    const imageId = Math.floor(studies / 2);

    const latest = store.loadStudy(imageId).latest;
    if (!latest) throw new Error(`image ${imageId} of the bench store has no landmark version`);
    let base = latest.versionId;
    let n = 0;
    const saves = 41;
    const saveMs = await medianMs(saves, () => {
      n++;
      base = store.addVersion(imageId, {
        kind: 'edit',
        points: syntheticPoints(n % 2 ? 'CS1' : 'CS4', 800 + n),
        author: 'bench',
        baseVersionId: base,
        moved: ['C2p'],
      }).versionId;
    });
    add(
      `save an edit (one transaction, synchronous=FULL) @${studies}`,
      saveMs,
      saves,
      'incl. staging, audit entry, summary triggers and fsync of the WAL',
    );

    store.close();
    const opens = 7;
    const openMs = await medianMs(opens, () => {
      store = Store.open(dir, { purpose: 'cvm bench' });
      store.listStudies({ offset: 0, limit: 50 });
      store.close();
    });
    add(
      `worklist open: open database + first page @${studies}`,
      openMs,
      opens,
      'new connection, schema check, lock, first page; OS file cache warm',
    );
    store = Store.open(dir, { purpose: 'cvm bench' });
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export const storeBench: BenchArea = { area: 'store', run: ({ quick, studies }) => figures(quick, studies ?? 100_000) };
