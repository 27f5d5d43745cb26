/**
 * How long each read the window can ask for holds the main thread at 100,000 studies: every worklist request
 * shape the renderer can send (each sort field both ways at the first, a middle and the last page; each filter;
 * searches matching many, few and no studies) and opening a study, each run several times on the same store the
 * app's main thread reads from. Reports, per request, the longest and the median wall time and the main
 * thread's CPU time (process.cpuUsage: no other thread works here), so a loaded machine's preemption can be told
 * from the query's own cost.
 *
 * The database is the one `cvm bench --only store` builds (its first 1,000 studies through the store's own
 * code, the rest copied in SQL through the same triggers and indexes). Usage:
 *   node --import tsx test/perf/worklist-reads.ts [studies=100000] [runs=5]
 * Prints one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REVIEW_STATUSES, STAGE_CODES, STUDY_SORT_FIELDS, type ListStudiesRequest } from '../../core/api/studies';
import { buildDatabase, replicateDatabase } from '../../main/cli/bench/store';
import { Store } from '../../main/store/store';

const FRAME_MS = 16;
process.env['CVM_SLOW_SQL_MS'] ??= 'off'; // building the database would log every slow insert
const studies = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);
const PAGE = 100; // renderer/state/worklist-session.ts PAGE_SIZE

interface Read {
  readonly name: string;
  readonly run: () => unknown;
}

function readsOf(store: Store, n: number): Read[] {
  const list = (name: string, extra: Partial<ListStudiesRequest>): Read => ({
    name,
    run: () => store.listStudies({ offset: 0, limit: PAGE, ...extra }),
  });
  const reads: Read[] = [];
  for (const field of STUDY_SORT_FIELDS) {
    for (const dir of ['asc', 'desc'] as const) {
      const sort = { field, dir };
      reads.push(list(`sort ${field} ${dir}, first page`, { sort }));
      reads.push(list(`sort ${field} ${dir}, middle page`, { sort, offset: Math.floor(n / 2) }));
      reads.push(list(`sort ${field} ${dir}, last page`, { sort, offset: n - PAGE }));
    }
  }
  for (const stage of [...STAGE_CODES, 'no-fit', 'none'] as const) reads.push(list(`stage ${stage}`, { stage }));
  for (const stageConfidence of ['high', 'moderate', 'low'] as const) {
    reads.push(list(`confidence ${stageConfidence}`, { stageConfidence }));
  }
  for (const reviewStatus of REVIEW_STATUSES) reads.push(list(`review ${reviewStatus}`, { reviewStatus }));
  reads.push(list('stage CS4 + approved', { stage: 'CS4', reviewStatus: 'approved' }));
  reads.push(
    list('date range, by stage', {
      dateFrom: '2018-01-01',
      dateTo: '2019-12-31',
      sort: { field: 'stage', dir: 'asc' },
    }),
  );
  // synthetic names: 10 surnames (10% of studies each), a patient number (3 studies), nothing
  reads.push(list('search "schmidt" (10%)', { search: 'schmidt' }));
  reads.push(
    list('search "schmidt", by patient name, middle page', {
      search: 'schmidt',
      sort: { field: 'patientName', dir: 'asc' },
      offset: Math.floor(n / 20),
    }),
  );
  reads.push(list('search "P000123" (3 studies)', { search: 'P000123' }));
  reads.push(list('search "zzzz" (none)', { search: 'zzzz' }));
  reads.push(list('search "a" (most)', { search: 'a' }));
  for (const at of [1, Math.floor(n / 2), n]) reads.push({ name: `load study ${at}`, run: () => store.loadStudy(at) });
  return reads;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-worklist-reads-'));
  const store = Store.open(dir, { purpose: 'worklist reads' });
  try {
    const base = 1_000;
    const t0 = performance.now();
    buildDatabase(store, base);
    const max = (table: string, column = 'id'): number =>
      (store.db.prepare(`SELECT COALESCE(MAX(${column}), 0) AS n FROM ${table}`).get() as { n: number }).n;
    const rows = {
      patients: max('patients'),
      studies: max('studies'),
      images: max('images'),
      runs: max('model_runs'),
      sets: max('landmark_sets'),
    };
    replicateDatabase(store, rows, 1, Math.ceil(studies / base));
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    store.db.pragma('optimize');
    const buildMs = performance.now() - t0;
    const n = max('images');
    const results = [];
    for (const read of readsOf(store, n)) {
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < runs; i++) {
        const c0 = process.cpuUsage();
        const w0 = performance.now();
        read.run();
        wall.push(performance.now() - w0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      results.push({
        name: read.name,
        maxMs: +Math.max(...wall).toFixed(2),
        medianMs: +median(wall).toFixed(2),
        maxCpuMs: +Math.max(...cpu).toFixed(2),
        medianCpuMs: +median(cpu).toFixed(2),
      });
    }
    results.sort((a, b) => b.maxMs - a.maxMs);
    console.log(
      JSON.stringify(
        {
          studies: n,
          runs,
          buildMs: Math.round(buildMs),
          readsMeasured: results.length,
          overFrameByMax: results.filter((r) => r.maxMs >= FRAME_MS).length,
          overFrameByMedian: results.filter((r) => r.medianMs >= FRAME_MS).length,
          overFrameByMedianCpu: results.filter((r) => r.medianCpuMs >= FRAME_MS).length,
          reads: results,
          loadavg: os.loadavg().map((l) => +l.toFixed(1)),
        },
        null,
        1,
      ),
    );
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
