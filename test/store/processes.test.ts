import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../main/store/errors';
import { LOCK_FILE_NAME } from '../../main/store/lock';
import { Store } from '../../main/store/store';
import { openStore, tempDir } from './helpers';
import { startWriter, type Writer } from './child/spawn';

const writers: Writer[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) await w.kill();
});

function writer(dataDir: string, mode: 'hold' | 'edits', count = 0): Writer {
  const w = startWriter(dataDir, mode, count);
  writers.push(w);
  return w;
}

const savedIds = (w: Writer): number[] =>
  w.lines.filter((l) => l.startsWith('saved ')).map((l) => Number(l.split(' ')[1]));

describe('a killed process', () => {
  it('an edit confirmed just before SIGKILL is there after restart', async () => {
    const dir = tempDir();
    const w = writer(dir, 'edits', 1);
    const line = await w.waitFor((l) => l.startsWith('saved '));
    await w.kill();
    const versionId = Number(line.split(' ')[1]);
    const store = openStore(dir); // takes over the stale lock of the dead writer
    const study = store.loadStudy(1);
    expect(study.latest?.versionId).toBe(versionId);
    expect(study.latest).toMatchObject({ kind: 'edit', author: 'writer', moved: ['C2p'] });
    expect(study.review.status).toBe('in-progress');
  });

  it('killed in the middle of a stream of edits, every confirmed edit survives and the database is consistent', async () => {
    const dir = tempDir();
    const w = writer(dir, 'edits', 5000);
    await w.waitFor(() => savedIds(w).length >= 50);
    await w.kill();
    const confirmed = savedIds(w);
    const store = openStore(dir);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const study = store.loadStudy(1);
    const stored = new Set(study.history.map((v) => v.versionId));
    expect(confirmed.filter((id) => !stored.has(id))).toEqual([]);
    // The latest pointer, the versions and their stages agree: no half-written gesture.
    expect(study.latest?.version).toBe(study.history.length);
    expect(study.history.every((v) => v.stage !== null)).toBe(true);
    const editsAudited = store.db.prepare("SELECT COUNT(*) FROM audit_log WHERE action = 'edit'").pluck().get();
    expect(editsAudited).toBe(study.history.length - 1);
  });
});

describe('a second copy on the same data folder', () => {
  it('is refused while the first runs, naming its process', async () => {
    const dir = tempDir();
    const w = writer(dir, 'hold');
    await w.waitFor((l) => l === 'ready');
    let error: unknown;
    try {
      Store.open(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).problem).toBe('in-use');
    expect((error as StoreError).message).toContain(`test writer ${w.child.pid}`);
  });

  it('may read (export, backup) while the first runs', async () => {
    const dir = tempDir();
    const w = writer(dir, 'edits', 3);
    await w.waitFor((l) => l === 'done');
    const reader = openStore(dir, { readonly: true });
    expect(reader.loadStudy(1).history).toHaveLength(4);
  });

  it('takes over the lock a killed process left behind', async () => {
    const dir = tempDir();
    const w = writer(dir, 'hold');
    await w.waitFor((l) => l === 'ready');
    await w.kill();
    expect(existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(true);
    const store = openStore(dir);
    expect(store.readonly).toBe(false);
  });
});

describe('readers during writes', () => {
  it('a reader never blocks or sees a half-written edit while another process writes', async () => {
    const dir = tempDir();
    const w = writer(dir, 'edits', 400);
    await w.waitFor((l) => l.startsWith('saved '));
    const reader = openStore(dir, { readonly: true });
    let reads = 0;
    let lastVersion = 0;
    while (!w.lines.includes('done')) {
      const study = reader.loadStudy(1);
      const row = reader.listStudies({ offset: 0, limit: 10 }).rows[0]!;
      // Each read is one snapshot: the latest version is the newest in the history, with its stage.
      expect(study.latest?.version).toBe(study.history.length);
      expect(study.latest?.stage).not.toBeNull();
      expect(study.latest!.version).toBeGreaterThanOrEqual(lastVersion);
      expect(row.stage).not.toBeNull();
      lastVersion = study.latest!.version;
      reads++;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(reads).toBeGreaterThan(10);
    expect(reader.loadStudy(1).history).toHaveLength(401);
  });

  it('in one process, a read during an open write transaction sees the state before it', () => {
    const dir = tempDir();
    const writerStore = openStore(dir);
    writerStore.db.exec("INSERT INTO settings (key, value) VALUES ('userName', 'before')");
    const reader = openStore(dir, { readonly: true });
    writerStore.db.exec('BEGIN IMMEDIATE');
    writerStore.db.exec("UPDATE settings SET value = 'during' WHERE key = 'userName'");
    expect(reader.userName()).toBe('before');
    writerStore.db.exec('COMMIT');
    expect(reader.userName()).toBe('during');
  });
});
