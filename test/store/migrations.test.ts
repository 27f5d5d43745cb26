import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, schemaVersion } from '../../main/store/database';
import { StoreError } from '../../main/store/errors';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../main/store/migrations';
import { DATABASE_FILE_NAME, Store } from '../../main/store/store';
import { addStudy, openStore, tempDir } from './helpers';

/** The schema as SQLite reports it, minus what differs between equal schemas (none expected). */
function schemaOf(file: string): Array<{ type: string; name: string; sql: string | null }> {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
      .all() as never;
  } finally {
    db.close();
  }
}

function openError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected the open to be refused');
}

describe('migrations', () => {
  it('migration versions are 1, 2, 3... without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_m, i) => i + 1));
  });

  it('an empty folder gets the latest schema, with every migration recorded', () => {
    const store = openStore(tempDir());
    expect(schemaVersion(store.db)).toBe(LATEST_SCHEMA_VERSION);
    const applied = store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(applied).toEqual(MIGRATIONS.map((m) => m.version));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it.each(MIGRATIONS.slice(0, -1).map((m) => m.version))(
    'a database at version %i is upgraded to the same schema as a new one, keeping its data',
    (version) => {
      const fresh = tempDir();
      openStore(fresh).close();
      const old = tempDir();
      const before = openStore(old, { migrateTo: version });
      expect(schemaVersion(before.db)).toBe(version);
      const imageId = addStudy(before, 7);
      before.close();
      const after = openStore(old);
      expect(schemaVersion(after.db)).toBe(LATEST_SCHEMA_VERSION);
      expect(after.loadStudy(imageId).info.fileName).toBe('ceph-7.dcm');
      after.close();
      expect(schemaOf(path.join(old, DATABASE_FILE_NAME))).toEqual(schemaOf(path.join(fresh, DATABASE_FILE_NAME)));
    },
  );

  it('a database from a newer version is refused and left byte for byte as it was', () => {
    const dir = tempDir();
    openStore(dir).close();
    const file = path.join(dir, DATABASE_FILE_NAME);
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    db.close();
    const bytes = readFileSync(file);
    const error = openError(() => Store.open(dir));
    expect(error.problem).toBe('newer-schema');
    expect(error.message).toMatch(
      new RegExp(`newer version of CVM Workstation \\(schema version ${LATEST_SCHEMA_VERSION + 5}`),
    );
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('a failing migration is rolled back entirely and the version stays where it was', () => {
    const dir = tempDir();
    const file = path.join(dir, DATABASE_FILE_NAME);
    const broken = [
      ...MIGRATIONS,
      { version: LATEST_SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE half (x); CREATE TABLE oops (' },
    ];
    expect(() => openDatabase(file, { migrations: broken })).toThrow();
    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    db.close();
  });
});
