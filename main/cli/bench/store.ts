/**
 * `cvm bench --only store`: a database of 10,000 studies with 5 landmark versions each (an AI prediction
 * and 4 saved edits), built in a temporary folder, then the worklist queries, loading a study and saving an
 * edit, each a median. `--quick` uses 1,000 studies.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ListStudiesRequest } from '../../../core/api/studies';
import { LANDMARK_NAMES } from '../../../core/landmarks/index';
import { DATABASE_FILE_NAME, Store } from '../../store/store';
import { type BenchFigure, medianMs } from '../command';
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
        storedPath: `images/bench-${i}.dcm`, originalName: info.fileName, byteSize: 9_000_000, info, author: 'bench',
      });
      const shape = random() < 0.5 ? 'CS1' : 'CS4';
      const ai = store.recordModelRun(imageId, {
        modelId: 'bench-model', modelVersion: '1', modelSha256: '0'.repeat(64), provider: 'cpu',
        timingsMs: { total: 200 }, landmarks: syntheticPoints(shape, 800, 1700, 4, jitter), confidences: confidences(),
      });
      let base = ai.versionId;
      for (let v = 1; v < VERSIONS_PER_STUDY; v++) {
        base = store.addVersion(imageId, { kind: 'edit', points: syntheticPoints(shape, 800, 1700, 4, jitter), author: 'bench', baseVersionId: base, moved: ['C3m'] }).versionId;
      }
      if (random() < 0.4) store.setReviewStatus(imageId, 'approved', 'bench');
    }
    store.db.exec('COMMIT');
  }
}

async function figures(quick: boolean): Promise<BenchFigure[]> {
  const studies = quick ? 1_000 : 10_000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-bench-store-'));
  const out: BenchFigure[] = [];
  const add = (name: string, ms: number, runs: number, note?: string) => out.push({ area: 'store', name, medianMs: ms, runs, ...(note ? { note } : {}) });
  try {
    let store = Store.open(dir, { purpose: 'cvm bench' });
    const buildStart = performance.now();
    buildDatabase(store, studies);
    const buildMs = performance.now() - buildStart;
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const sizeMb = statSync(path.join(dir, DATABASE_FILE_NAME)).size / 1e6;
    add(`build ${studies} studies x ${VERSIONS_PER_STUDY} versions`, buildMs, 1, `${sizeMb.toFixed(1)} MB database; batched commits`);

    const runs = 21;
    const page = (extra: Partial<ListStudiesRequest> = {}) => () => store.listStudies({ offset: 0, limit: 50, ...extra });
    add('worklist first page (50 rows, newest first)', await medianMs(runs, page()), runs, `of ${studies}; incl. total count`);
    add('worklist sorted by patient name', await medianMs(runs, page({ sort: { field: 'patientName', dir: 'asc' } })), runs);
    add('worklist filter stage CS4 + approved', await medianMs(runs, page({ stage: 'CS4', reviewStatus: 'approved' })), runs);
    add('worklist search "schmidt"', await medianMs(runs, page({ search: 'schmidt' })), runs);
    add('worklist date range, sorted by stage', await medianMs(runs, page({ dateFrom: '2018-01-01', dateTo: '2019-12-31', sort: { field: 'stage', dir: 'asc' } })), runs);
    add(`worklist page at offset ${studies / 2}`, await medianMs(runs, page({ offset: studies / 2 })), runs);

    const imageId = Math.floor(studies / 2);
    add('load a study (latest, ai, history)', await medianMs(runs, () => store.loadStudy(imageId)), runs);

    let base = store.loadStudy(imageId).latest!.versionId;
    let n = 0;
    const saves = 41;
    const saveMs = await medianMs(saves, () => {
      n++;
      base = store.addVersion(imageId, { kind: 'edit', points: syntheticPoints(n % 2 ? 'CS1' : 'CS4', 800 + n), author: 'bench', baseVersionId: base, moved: ['C2p'] }).versionId;
    });
    add('save an edit (one transaction, synchronous=FULL)', saveMs, saves, 'incl. staging, audit entry and fsync of the WAL');

    store.close();
    const opens = 7;
    const openMs = await medianMs(opens, () => {
      store = Store.open(dir, { purpose: 'cvm bench' });
      store.listStudies({ offset: 0, limit: 50 });
      store.close();
    });
    add('worklist open: open database + first page', openMs, opens, 'new connection, schema check, lock, first page; OS file cache warm');
    store = Store.open(dir, { purpose: 'cvm bench' });
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export const storeBench: BenchArea = { area: 'store', run: ({ quick }) => figures(quick) };
