/**
 * One writer per data folder: a lock file holding the owner's process id. A second copy of the app (or a
 * writing CLI command) on the same folder is refused with a message naming the owner; a lock left behind
 * by a process that no longer runs (a crash, a kill) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreError, storageError } from './errors';

export const LOCK_FILE_NAME = 'cvm.lock';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly purpose: string;
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number') return null;
    return {
      pid: owner.pid,
      host: String(owner.host ?? ''),
      since: String(owner.since ?? ''),
      purpose: String(owner.purpose ?? ''),
    };
  } catch {
    return null;
  }
}

/** The process holding the data folder, or null when nobody (alive, on this machine) holds it. */
function lockOwner(dataDir: string): LockOwner | null {
  const owner = readOwner(path.join(dataDir, LOCK_FILE_NAME));
  if (!owner) return null;
  if (owner.host === os.hostname() && !isRunning(owner.pid)) return null;
  return owner;
}

function describeOwner(dataDir: string, owner: LockOwner): string {
  return (
    `The data folder ${dataDir} is in use by another copy of CVM Workstation ` +
    `(${owner.purpose || 'process'} ${owner.pid} on ${owner.host || 'unknown host'}, since ${owner.since || 'unknown'}). ` +
    'Close it first, or use a different data folder.'
  );
}

export function acquireDataDirLock(dataDir: string, purpose: string): DataDirLock {
  const file = path.join(dataDir, LOCK_FILE_NAME);
  const body = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString(), purpose });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, body);
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(error, 'lock the data folder', file);
      const owner = lockOwner(dataDir);
      if (owner) throw new StoreError('storage', 'in-use', describeOwner(dataDir, owner));
      // Stale: its owner is gone. Remove and try once more (another starter may win the race; then we refuse).
      rmSync(file, { force: true });
    }
  }
  const owner = readOwner(file);
  throw new StoreError(
    'storage',
    'in-use',
    owner ? describeOwner(dataDir, owner) : `Could not lock the data folder ${dataDir}.`,
  );
}
