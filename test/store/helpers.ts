/** Temporary data folders with real database files, and studies recorded through the real store. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { StoreError } from '../../main/store/errors';
import { Store, type StoreOpenOptions } from '../../main/store/store';
import { syntheticInfo } from '../../main/cli/bench/synthetic';

const created: string[] = [];
const opened: Store[] = [];

/** A fresh folder under the system temp dir, removed after the test. */
export function tempDir(prefix = 'cvm-store-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Opens a store that is closed after the test. */
export function openStore(dataDir: string, options: StoreOpenOptions = {}): Store {
  const store = Store.open(dataDir, { purpose: 'test', ...options });
  opened.push(store);
  return store;
}

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Records synthetic study `i` (metadata only: the store does not read the file). */
export function addStudy(store: Store, i: number): number {
  const info = syntheticInfo(i);
  return store.insertImage({
    sha256: createHash('sha256').update(`study ${i}`).digest('hex'),
    storedPath: `images/sha-${i}.dcm`,
    originalName: info.fileName,
    byteSize: 1000,
    info,
    author: 'tester',
  }).imageId;
}

export const MODEL_RUN = {
  modelId: 'cvm13-unet',
  modelVersion: '1.0.0',
  modelSha256: 'ab'.repeat(32),
  provider: 'cpu',
  timingsMs: { stage1: 40, stage2: 60 },
} as const;

/** The StoreError `fn` throws; anything else (or nothing) fails the test. */
export function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected a StoreError');
}
