/**
 * Opening the database file: pragmas (WAL, foreign keys, busy timeout), the schema version check and the
 * migrations, each applied in one transaction with its version recorded.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { StoreError, storageError } from './errors';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations';

export type Db = Database.Database;

export interface OpenOptions {
  readonly readonly?: boolean;
  /** Apply only the migrations up to this version (tests of upgrades from earlier versions). */
  readonly migrateTo?: number;
  readonly migrations?: readonly Migration[];
}

const BUSY_TIMEOUT_MS = 5000;

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, file: string, migrations: readonly Migration[], target: number): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  for (const m of migrations) {
    if (m.version > target) break;
    // IMMEDIATE: a second process starting at the same moment waits instead of applying the same step.
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return;
      if (m.sql.trim() !== '') db.exec(m.sql);
      m.apply?.(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  if (schemaVersion(db) < target)
    throw new StoreError('internal', 'invalid', `migrations did not reach version ${target} in ${file}`);
}

/**
 * SQLite silently opens a file it cannot write (e.g. immutable) read-only; a one-page write now turns that
 * into a clear error at start instead of a failed save later.
 */
function probeWritable(db: Db): void {
  db.transaction(() => db.pragma(`user_version = ${schemaVersion(db)}`)).immediate();
}

function refuseNewer(version: number, known: number, file: string): never {
  throw new StoreError(
    'storage',
    'newer-schema',
    `The database ${file} was written by a newer version of CVM Workstation (schema version ${version}; this version ` +
      `knows up to ${known}). It was not opened or changed: use the newer version, or restore a backup made by this one.`,
  );
}

/** Opens (creating when absent, unless read-only) and migrates the database at `file`. */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? MIGRATIONS;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const target = options.migrateTo ?? latest;
  const readonly = options.readonly ?? false;
  if (readonly && !existsSync(file)) {
    throw new StoreError('not-found', 'missing', `There is no database at ${file}.`);
  }
  let db: Db | null = null;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
    // The first read is where a damaged or foreign file shows itself (SQLITE_NOTADB).
    const version = schemaVersion(db);
    if (version > latest) refuseNewer(version, latest, file);
    if (!readonly) db.pragma('journal_mode = WAL');
    // FULL: each committed edit is in the WAL on disk before the call returns (survives power loss too).
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // A worklist of years of studies reads many pages: keep up to 64 MB of them in memory, and map the file.
    db.pragma('cache_size = -65536');
    db.pragma('mmap_size = 268435456');
    if (readonly) {
      if (version < target) {
        throw new StoreError(
          'storage',
          'older-schema',
          `The database ${file} has schema version ${version} and needs upgrading to ${target}; open it once with the app (not read-only) first.`,
        );
      }
    } else {
      migrate(db, file, migrations, target);
      probeWritable(db);
    }
    return db;
  } catch (error) {
    db?.close();
    throw storageError(error, readonly ? 'open the database read-only' : 'open the database', file);
  }
}

export { LATEST_SCHEMA_VERSION };
