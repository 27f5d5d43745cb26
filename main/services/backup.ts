/**
 * Backup: a consistent copy of the database made with SQLite's online backup API, also while the app is
 * running and writing. Restore: validate the backup, keep the current database aside, and put the backup in
 * its place, only while no other process uses the data folder.
 */
import Database from 'better-sqlite3';
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pruneDerivedPixels } from '../dicom/pixel-cache';
import { openDatabase, schemaVersion } from '../store/database';
import { StoreError, guardStorage, storageError } from '../store/errors';
import { acquireDataDirLock } from '../store/lock';
import { LATEST_SCHEMA_VERSION } from '../store/migrations';
import { DATABASE_FILE_NAME, Store, storedPathProblem } from '../store/store';

export interface BackupCheck {
  readonly schemaVersion: number;
  readonly images: number;
  readonly landmarkSets: number;
}

/** Opens `file` read-only and checks that it is a whole, readable CVM Workstation database of a known version. */
export function checkBackup(file: string): BackupCheck {
  if (!existsSync(file)) throw new StoreError('not-found', 'missing', `The backup ${file} does not exist.`);
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok')
      throw new StoreError(
        'storage',
        'corrupt',
        `The backup ${file} is damaged (integrity check: ${String(integrity)}).`,
      );
    const version = schemaVersion(db);
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    if (version < 1 || !['schema_migrations', 'images', 'landmark_sets'].every((t) => tables.has(t))) {
      throw new StoreError(
        'invalid-request',
        'invalid',
        `${file} is an SQLite file but not a CVM Workstation database.`,
      );
    }
    if (version > LATEST_SCHEMA_VERSION) {
      throw new StoreError(
        'storage',
        'newer-schema',
        `The backup ${file} was made by a newer version of CVM Workstation (schema version ${version}; this version knows up to ${LATEST_SCHEMA_VERSION}).`,
      );
    }
    // A backup is data from elsewhere: every image path must stay inside the data folder (a stored_path of
    // ../../../../etc/shadow would otherwise be read and copied by export --copy-images).
    const escaping: string[] = [];
    for (const stored of db.prepare('SELECT stored_path FROM images').pluck().iterate() as Iterable<unknown>) {
      const problem = storedPathProblem(stored);
      if (problem) escaping.push(`"${String(stored).slice(0, 80)}" ${problem}`);
    }
    if (escaping.length > 0) {
      throw new StoreError(
        'invalid-request',
        'invalid',
        `The backup ${file} names ${escaping.length} image file(s) outside the data folder (${escaping.slice(0, 2).join('; ')}); nothing was restored.`,
      );
    }
    return {
      schemaVersion: version,
      images: db.prepare('SELECT COUNT(*) FROM images').pluck().get() as number,
      landmarkSets: db.prepare('SELECT COUNT(*) FROM landmark_sets').pluck().get() as number,
    };
  } catch (error) {
    const mapped = storageError(error, 'read the backup', file);
    if (mapped instanceof StoreError && mapped.problem === 'corrupt') {
      throw new StoreError(
        'storage',
        'corrupt',
        `The backup ${file} is damaged or is not a CVM Workstation database; nothing was restored.`,
      );
    }
    throw mapped;
  } finally {
    db?.close();
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a consistent copy of the data folder's database to `outFile` (never overwriting a file). Uses
 * `store` when this process has it open, otherwise opens the database read-only, which works while the app runs.
 */
export async function backupDatabase(dataDir: string, outFile: string, store?: Store): Promise<BackupCheck> {
  const out = path.resolve(outFile);
  if (existsSync(out))
    throw new StoreError('invalid-request', 'invalid', `${out} already exists; choose a new file name for the backup.`);
  const source = store ?? Store.open(dataDir, { readonly: true });
  const temp = `${out}.partial`;
  try {
    await source.backupTo(temp);
    guardStorage('write the backup', out, () => {
      fsyncFile(temp);
      renameSync(temp, out);
    });
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  } finally {
    if (!store) source.close();
  }
  return checkBackup(out);
}

export interface RestoreResult extends BackupCheck {
  /** Where the database that was replaced was kept (null when there was none). */
  readonly previousKeptAt: string | null;
  /** Stored image files the restored database refers to that are not in the images folder. */
  readonly missingImages: readonly string[];
}

const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');

/** Replaces the data folder's database with a validated backup; refuses while another process uses the folder. */
export async function restoreDatabase(dataDir: string, backupFile: string): Promise<RestoreResult> {
  const dir = path.resolve(dataDir);
  const backup = path.resolve(backupFile);
  checkBackup(backup);
  const file = path.join(dir, DATABASE_FILE_NAME);
  const lock = acquireDataDirLock(dir, 'cvm restore');
  try {
    let previousKeptAt: string | null = null;
    if (existsSync(file)) {
      previousKeptAt = `${file}.before-restore-${stamp()}`;
      await keepCurrent(file, previousKeptAt);
    }
    const temp = `${file}.restore-tmp`;
    guardStorage('put the backup in place', file, () => {
      copyFileSync(backup, temp);
      fsyncFile(temp);
      // The old database was closed cleanly above (or copied with its journal), so its WAL files can go.
      rmSync(`${file}-wal`, { force: true });
      rmSync(`${file}-shm`, { force: true });
      renameSync(temp, file);
    });
    const db = openDatabase(file); // upgrades a backup from an older version
    try {
      const storedPaths = db.prepare('SELECT stored_path FROM images').pluck().all() as string[];
      // Derived pixel copies are not in backups: those of images the restored database lacks go; missing ones
      // are made again on first use.
      pruneDerivedPixels(dir, new Set(db.prepare('SELECT sha256 FROM images').pluck().all() as string[]));
      return {
        schemaVersion: schemaVersion(db),
        images: storedPaths.length,
        landmarkSets: db.prepare('SELECT COUNT(*) FROM landmark_sets').pluck().get() as number,
        previousKeptAt,
        missingImages: storedPaths.filter((p) => !existsSync(path.join(dir, p))),
      };
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}

/** Keeps the current database beside the restored one: via SQLite when it opens, as raw files when it is damaged. */
async function keepCurrent(file: string, keepAs: string): Promise<void> {
  let db: Database.Database | null = null;
  try {
    db = openDatabase(file);
  } catch (error) {
    if (!(error instanceof StoreError) || error.problem !== 'corrupt') throw error;
  }
  if (db) {
    try {
      await db.backup(keepAs);
    } catch (error) {
      throw storageError(error, 'keep a copy of the current database', keepAs);
    } finally {
      db.close();
    }
    return;
  }
  guardStorage('keep a copy of the current database', keepAs, () => {
    copyFileSync(file, keepAs);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${keepAs}-wal`);
  });
}
