/** Locates ../shared/data (beside the checkout); tests that need it skip with a clear message when absent. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const HAS_SHARED_DATA = existsSync(SHARED_DATA);

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DATA, ...parts);
}

export const SKIP_NO_SHARED = HAS_SHARED_DATA ? '' : `skipped: ${SHARED_DATA} is absent (the real data sits beside the checkout)`;
if (!HAS_SHARED_DATA) console.warn(SKIP_NO_SHARED);
