import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticPoints } from '../../main/cli/bench/synthetic';
import { closeStudyStores, importFile, storeFor } from '../../main/services/studies';
import { DATABASE_FILE_NAME, Store } from '../../main/store/store';
import { MODEL_RUN, addStudy, openStore, storeError, tempDir } from './helpers';
import { makePng } from './png';

/** `chattr +i` makes a file or folder immutable even for root (the tests run as root, so chmod would not do). */
function tryChattr(flag: '+i' | '-i', target: string): boolean {
  try {
    execFileSync('chattr', [flag, target], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const immutable: string[] = [];
function makeImmutable(target: string): void {
  if (!tryChattr('+i', target)) throw new Error(`chattr +i ${target} failed`);
  immutable.push(target);
}
const probe = tempDir();
const CHATTR_WORKS = tryChattr('+i', probe) && tryChattr('-i', probe);
const SKIP_CHATTR = CHATTR_WORKS ? '' : '(skipped: chattr +i does not work here, so root cannot be denied writes)';

afterEach(() => {
  closeStudyStores();
  for (const t of immutable.splice(0)) tryChattr('-i', t);
});

describe('a damaged or foreign database file', () => {
  it.each([
    ['random bytes', () => Buffer.from('this is not a database, it is a text file that someone renamed '.repeat(100))],
    ['a truncated header', () => Buffer.from('SQLite format 3\0garbage')],
  ])('%s is refused with a clear message and left untouched', (_name, bytes) => {
    const dir = tempDir();
    const file = path.join(dir, DATABASE_FILE_NAME);
    const content = bytes();
    writeFileSync(file, content);
    const error = storeError(() => Store.open(dir));
    expect(error.problem).toBe('corrupt');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/damaged or is not a CVM Workstation database/);
    expect(readFileSync(file).equals(content)).toBe(true);
    // The refused open released its lock: the folder is not left "in use".
    expect(readdirSync(dir).sort()).toEqual([DATABASE_FILE_NAME, 'images']);
  });
});

describe('a full disk', () => {
  it('a write that does not fit fails as "disk is full" and nothing of it is stored', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const ai = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: syntheticPoints('CS4'), confidences: {} });
    // The database may not grow: SQLite reports SQLITE_FULL exactly as on a full disk.
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages}`);
    const error = storeError(() =>
      store.addVersion(imageId, {
        kind: 'edit',
        points: syntheticPoints('CS1'),
        author: 'dr a',
        baseVersionId: ai.versionId,
        note: 'x'.repeat(200_000),
      }),
    );
    expect(error.problem).toBe('full');
    expect(error.message).toMatch(/^Could not save the landmarks: the disk is full/);
    const study = store.loadStudy(imageId);
    expect(study.history).toHaveLength(1);
    expect(study.review.status).toBe('unreviewed');
    expect(store.auditLog(imageId).map((e) => e.action)).toEqual(['model-run', 'import']);
  });
});

describe('read-only storage', () => {
  it('a store opened read-only refuses writes with a clear message', () => {
    const dir = tempDir();
    addStudy(openStore(dir), 1);
    const reader = openStore(dir, { readonly: true });
    const error = storeError(() => reader.setReviewStatus(1, 'in-progress', 'dr a'));
    expect(error.problem).toBe('read-only');
    expect(reader.loadStudy(1).review.status).toBe('unreviewed');
  });

  it.skipIf(!CHATTR_WORKS)(`an immutable database file is reported as read-only ${SKIP_CHATTR}`, () => {
    const dir = tempDir();
    const first = openStore(dir);
    addStudy(first, 1);
    first.close();
    makeImmutable(path.join(dir, DATABASE_FILE_NAME));
    const error = storeError(() => Store.open(dir));
    expect(error.problem).toBe('read-only');
    expect(error.message).toMatch(/read-only or not writable/);
  });

  it.skipIf(!CHATTR_WORKS)(`an immutable data folder is reported as read-only ${SKIP_CHATTR}`, () => {
    const dir = tempDir();
    openStore(dir).close();
    makeImmutable(dir);
    const error = storeError(() => Store.open(dir));
    expect(error.problem).toBe('read-only');
    expect(error.message).toContain(dir);
  });

  it.skipIf(!CHATTR_WORKS)(
    `an import whose copy cannot be written fails by name and records nothing ${SKIP_CHATTR}`,
    async () => {
      const dir = tempDir();
      const store = storeFor({ dataDir: dir, mode: 'cli' });
      makeImmutable(path.join(dir, 'images'));
      const result = await importFile(store, 'x.png', makePng(8, 8, 1), { author: 'dr a' });
      expect(result).toMatchObject({ ok: false, error: { code: 'storage' } });
      if (result.ok) throw new Error('expected a failure');
      expect(result.error.message).toMatch(/Could not copy the image into the data folder: .*read-only/);
      expect(store.listStudies({ offset: 0, limit: 10 }).total).toBe(0);
      expect(readdirSync(path.join(dir, 'images'))).toEqual([]);
    },
  );
});
