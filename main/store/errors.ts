/**
 * Storage failures as clear, specific messages. Every SQLite or file-system error that leaves the store goes
 * through `storageError`, so the user reads "the disk is full" instead of "SQLITE_FULL".
 */
import type { ErrorCode } from '../../core/api/result';

export type StoreProblem =
  | 'corrupt'
  | 'newer-schema'
  | 'older-schema'
  | 'in-use'
  | 'read-only'
  | 'full'
  | 'busy'
  | 'io'
  | 'missing'
  | 'not-found'
  | 'conflict'
  | 'invalid';

export class StoreError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly problem: StoreProblem,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

const errorCodeOf = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : '';

/**
 * Maps a SQLite or file-system error raised while doing `action` on `file` to a StoreError, or returns the
 * error unchanged when it is not a storage failure (a programming error must stay visible as such).
 */
export function storageError(error: unknown, action: string, file: string): unknown {
  if (error instanceof StoreError) return error;
  const code = errorCodeOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  const make = (problem: StoreProblem, what: string): StoreError =>
    new StoreError('storage', problem, `Could not ${action}: ${what} (${file}). Nothing was changed.`);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return make('full', 'the disk is full; free some space and try again');
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return make('read-only', 'the data folder or database file is read-only or not writable for this user');
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(
      'storage',
      'corrupt',
      `The database ${file} is damaged or is not a CVM Workstation database (${detail}). It was left untouched; ` +
        'restore a backup with "cvm restore" or move the file away to start a new one.',
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return make('busy', 'the database is locked by another program; close it and try again');
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code === 'EIO') {
    return make('io', `the disk reported an input/output error (${detail})`);
  }
  return error;
}

/** Runs `fn`, converting storage failures to StoreError. */
export function guardStorage<T>(action: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw storageError(error, action, file);
  }
}
