/**
 * How long the main thread is blocked during a batch: import N real cephalograms, then analyse them, through
 * the same services and handlers the app calls (main/services), while the worklist is refreshed after each
 * analysed study as the renderer does. Measures
 *  - every SQL statement and transaction (the store's own timing, main/store/sql-timing.ts): SQLite runs on
 *    the calling thread, so each duration is main-thread time;
 *  - every gap of the event loop (a 1 ms timer chain): what a user would feel, whatever blocked it (SQL, the
 *    copy's fsync, hashing, messages from the workers, or this machine's other load);
 *  - the fsync latency of the data folder's disk (4 KB appended and fdatasync'd, 200 times).
 *
 * A slow disk is simulated by test/perf/slow-fsync.c (see there): every fsync/fdatasync takes SLOW_FSYNC_MS
 * longer. Usage:
 *   gcc -shared -fPIC -O2 -o /tmp/slow-fsync.so test/perf/slow-fsync.c -ldl
 *   SLOW_FSYNC_MS=10 LD_PRELOAD=/tmp/slow-fsync.so node --import tsx test/perf/store-blocking.ts [files] [data-dir]
 * Prints one JSON object. Needs ../shared/data (the ISBI 2015 cephalograms).
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import { performance as nodePerformance } from 'node:perf_hooks';
import path from 'node:path';
import type { BatchFinished } from '../../core/api/analysis';
import { analysisHandlers, closeInferenceEngines } from '../../main/services/analysis';
import type { ServiceContext } from '../../main/services/context';
import { closeStudyStores, storeFor, studyHandlers } from '../../main/services/studies';
import { sharedPath } from '../shared-data';

const FRAME_MS = 16;
const count = Number(process.argv[2] ?? 100);
const parent = process.argv[3] ?? os.tmpdir();

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function describe(values: readonly number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const over = sorted.filter((v) => v >= FRAME_MS);
  return {
    n: sorted.length,
    median: +quantile(sorted, 0.5).toFixed(2),
    p95: +quantile(sorted, 0.95).toFixed(2),
    p99: +quantile(sorted, 0.99).toFixed(2),
    max: +(sorted[sorted.length - 1] ?? 0).toFixed(2),
    totalMs: +sorted.reduce((a, b) => a + b, 0).toFixed(1),
    overFrame: over.length,
    overFrameMs: +over.reduce((a, b) => a + b, 0).toFixed(1),
  };
}

/** fdatasync latency of the disk under `dir`: 4 KB appended and synced, 200 times. */
function fsyncLatency(dir: string): Record<string, number> {
  const file = path.join(dir, 'fsync-probe.bin');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      writeSync(fd, block);
      const start = performance.now();
      fdatasyncSync(fd);
      times.push(performance.now() - start);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return describe(times);
}

/**
 * A user's request every 250 ms (open a study, as the renderer's loadStudy does over IPC): how long from
 * when it is due until its answer is ready, i.e. waiting for the main thread plus its own work.
 */
function probeRequests(request: () => Promise<unknown>): { stop: () => number[] } {
  const latencies: number[] = [];
  let stopped = false;
  let timer: NodeJS.Timeout;
  const schedule = (): void => {
    const due = performance.now() + 250;
    timer = setTimeout(() => {
      void request().then(() => {
        latencies.push(performance.now() - due);
        if (!stopped) schedule();
      });
    }, 250);
  };
  schedule();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      return latencies;
    },
  };
}

/** Records every gap between ticks of a 1 ms timer chain, less the 1 ms asked for. */
function watchEventLoop(): { stop: () => number[] } {
  const gaps: number[] = [];
  let last = performance.now();
  let timer: NodeJS.Timeout;
  const tick = (): void => {
    const t = performance.now();
    gaps.push(Math.max(0, t - last - 1));
    last = t;
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  return {
    stop: () => {
      clearTimeout(timer);
      return gaps;
    },
  };
}

async function main(): Promise<void> {
  const imagesDir = sharedPath('isbi2015', 'images');
  const names = readdirSync(imagesDir)
    .filter((n) => n.endsWith('.jpg'))
    .sort()
    .slice(0, count);
  // The renderer reads the files and sends their bytes; that is not main-process work, so it happens first.
  const files = names.map((name) => ({ name, bytes: new Uint8Array(readFileSync(path.join(imagesDir, name))) }));
  const dataDir = mkdtempSync(path.join(parent, 'cvm-blocking-'));
  let finish: (f: BatchFinished) => void = () => {};
  const batchDone = new Promise<BatchFinished>((resolve) => (finish = resolve));
  let refresh: () => void = () => {};
  const ctx: ServiceContext = {
    mode: 'web',
    dataDir,
    appVersion: 'measure',
    emit: (name, payload) => {
      if (name === 'analysisBatchProgress') refresh();
      if (name === 'analysisBatchDone') finish(payload as BatchFinished);
    },
  };
  const disk = fsyncLatency(dataDir);
  // The store the services use; its timings count what reaches the threshold (CVM_SLOW_SQL_MS, 16 ms).
  const timings = storeFor(ctx).sql.timings;
  const studies = studyHandlers(ctx);
  const analysis = analysisHandlers(ctx);
  try {
    // Warm the inference engine so the batch measures the steady state, not the model load.
    await analysis.listModels({});
    const watch = watchEventLoop();
    const requests = probeRequests(() => studies.loadStudy({ imageId: 1 + Math.floor(Math.random() * 5) }));
    const elu0 = nodePerformance.eventLoopUtilization();
    const t0 = performance.now();
    const imported = await studies.importFiles({ files, spacingMm: 0.1 });
    const importMs = performance.now() - t0;
    if (!imported.ok) throw new Error(imported.error.message);
    const ids = imported.value.results.flatMap((r) => (r.ok ? [r.imageId] : []));
    refresh = () => {
      // As the worklist does on each progress event (renderer/features/worklist/Worklist.tsx).
      void studies.listStudies({ offset: 0, limit: 100, sort: { field: 'updatedAt', dir: 'desc' } });
    };
    const t1 = performance.now();
    const started = await analysis.analyzeBatch({ imageIds: ids });
    if (!started.ok) throw new Error(started.error.message);
    const finished = await batchDone;
    const analyseMs = performance.now() - t1;
    const gaps = watch.stop();
    const latencies = requests.stop();
    const elu = nodePerformance.eventLoopUtilization(elu0);
    const summary = timings.summary();
    const tx = summary.filter((e) => e.kind === 'transaction');
    console.log(
      JSON.stringify(
        {
          files: names.length,
          imported: ids.length,
          analysed: finished.items.filter((i) => i.ok).length,
          slowFsyncMs: Number(process.env['SLOW_FSYNC_MS'] ?? 0),
          dataDir: parent,
          fsyncLatencyMs: disk,
          importMs: Math.round(importMs),
          analyseMs: Math.round(analyseMs),
          eventLoopGapsMs: describe(gaps),
          mainThreadActiveMs: Math.round(elu.active),
          mainThreadUtilization: +elu.utilization.toFixed(3),
          requestLatencyMs: describe(latencies),
          sqlTransactions: tx.map((e) => ({
            name: e.name,
            count: e.count,
            meanMs: +(e.totalMs / e.count).toFixed(2),
            maxMs: +e.maxMs.toFixed(2),
            overFrame: e.slow,
            meanStatementsMs: +(e.statementsMs / e.count).toFixed(2),
            meanCommitMs: +(e.commitMs / e.count).toFixed(2),
          })),
          sqlStatementsOverFrame: summary
            .filter((e) => e.kind === 'statement' && e.slow > 0)
            .map((e) => ({ name: e.name, count: e.count, overFrame: e.slow, maxMs: +e.maxMs.toFixed(2) })),
          sqlTotalMs: +tx.reduce((a, e) => a + e.totalMs, 0).toFixed(1),
          sqlOverFrame: tx.reduce((a, e) => a + e.slow, 0),
        },
        null,
        1,
      ),
    );
  } finally {
    await closeInferenceEngines();
    closeStudyStores();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
