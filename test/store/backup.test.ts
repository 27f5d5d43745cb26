import Database from 'better-sqlite3';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backupDatabase, checkBackup, restoreDatabase } from '../../main/services/backup';
import { StoreError } from '../../main/store/errors';
import { addStudy, openStore, tempDir } from './helpers';
import { startWriter, type Writer } from './child/spawn';

const writers: Writer[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) await w.kill();
});

async function rejection(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected a StoreError');
}

describe('backup', () => {
  it('copies a consistent database while another process keeps writing', async () => {
    const dir = tempDir();
    const w = startWriter(dir, 'edits', 3000);
    writers.push(w);
    await w.waitFor((l) => l.startsWith('saved 20 '));
    const out = path.join(tempDir(), 'backup.sqlite');
    const check = await backupDatabase(dir, out);
    expect(check.images).toBe(1);
    expect(check.landmarkSets).toBeGreaterThanOrEqual(20); // at least every edit confirmed before the copy
    await w.kill();
    // The copy is a snapshot: its latest pointer agrees with its own versions.
    const restoreDir = tempDir();
    await restoreDatabase(restoreDir, out);
    const restored = openStore(restoreDir);
    const study = restored.loadStudy(1);
    expect(study.latest?.version).toBe(study.history.length);
    expect(restored.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('never overwrites an existing file', async () => {
    const dir = tempDir();
    addStudy(openStore(dir), 1);
    const out = path.join(tempDir(), 'taken.sqlite');
    writeFileSync(out, 'keep me');
    expect((await rejection(backupDatabase(dir, out))).message).toMatch(/already exists/);
  });
});

describe('restore', () => {
  it('puts the backup in place and keeps the replaced database beside it', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    addStudy(store, 1);
    const out = path.join(tempDir(), 'b.sqlite');
    await backupDatabase(dir, out, store);
    addStudy(store, 2);
    store.close();
    const result = await restoreDatabase(dir, out);
    expect(result.images).toBe(1);
    expect(result.previousKeptAt).not.toBeNull();
    expect(existsSync(result.previousKeptAt!)).toBe(true);
    // The helper records studies without files, so the restore lists the image as missing.
    expect(result.missingImages).toEqual(['images/sha-1.dcm']);
    expect(openStore(dir).listStudies({ offset: 0, limit: 5 }).total).toBe(1);
    const kept = new Database(result.previousKeptAt!, { readonly: true });
    expect(kept.prepare('SELECT COUNT(*) FROM images').pluck().get()).toBe(2);
    kept.close();
  });

  it('is refused while another process uses the data folder', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    addStudy(store, 1);
    const out = path.join(tempDir(), 'b.sqlite');
    await backupDatabase(dir, out, store);
    store.close();
    const w = startWriter(dir, 'hold');
    writers.push(w);
    await w.waitFor((l) => l === 'ready');
    expect((await rejection(restoreDatabase(dir, out))).problem).toBe('in-use');
  });

  it.each([['a text file', 'not sqlite at all '.repeat(300), /damaged or is not a CVM Workstation database/]])(
    'refuses %s as a backup and changes nothing',
    async (_name, content, message) => {
      const dir = tempDir();
      const store = openStore(dir);
      addStudy(store, 1);
      store.close();
      const bad = path.join(tempDir(), 'bad.sqlite');
      writeFileSync(bad, content);
      expect((await rejection(restoreDatabase(dir, bad))).message).toMatch(message);
      expect(openStore(dir).listStudies({ offset: 0, limit: 5 }).total).toBe(1);
      expect(readdirSync(dir).filter((f) => f.includes('before-restore'))).toEqual([]);
    },
  );

  it('refuses an SQLite file that is not a workstation database', async () => {
    const other = tempDir();
    const file = path.join(other, 'other.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(() => checkBackup(file)).toThrow(/not a CVM Workstation database/);
  });
});
