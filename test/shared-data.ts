/**
 * Locates ../shared/data (beside the checkout). Tests that need it skip with a clear message when it is
 * absent on a developer's machine; under CI (`CI` set) a missing folder fails the run instead, so the
 * tests on real data can never disappear silently.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const HAS_SHARED_DATA = existsSync(SHARED_DATA);

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DATA, ...parts);
}

const RUNNING_IN_CI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';

if (!HAS_SHARED_DATA && RUNNING_IN_CI) {
  throw new Error(
    `${SHARED_DATA} is absent: CI must run with ../shared beside the checkout (the tests on real data would be skipped)`,
  );
}

export const SKIP_NO_SHARED = HAS_SHARED_DATA
  ? ''
  : `skipped: ${SHARED_DATA} is absent (the real data sits beside the checkout)`;
if (!HAS_SHARED_DATA) console.warn(SKIP_NO_SHARED);
