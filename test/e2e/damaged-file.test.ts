/**
 * A damaged file is never opened silently: a JPEG cut short imports with a warning in the worklist notice,
 * and its study page says the file is damaged, in the real browser against the real server.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { HAS_CHROMIUM, screenshotPath, sessionPerSuite } from './harness';

const canRun = HAS_SHARED_DATA && HAS_CHROMIUM;

describe.skipIf(!canRun)('a damaged file in browser mode', () => {
  const current = sessionPerSuite();

  it('imports a truncated JPEG with a warning and shows it on the study page', async () => {
    const { page } = current();
    const whole = readFileSync(sharedPath('isbi2015', 'images', '002.jpg'));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cvm-damaged-')), 'cut-002.jpg');
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    await page.getByTestId('import-files').setInputFiles(file);
    await expect
      .poll(() => page.getByTestId('file-warning').textContent(), { timeout: 60_000 })
      .toMatch(/This file is damaged or has unusable values: cut-002\.jpg: the JPEG data is damaged/);
    await page.screenshot({ path: screenshotPath('security-01-damaged-jpeg') });
  });
});
