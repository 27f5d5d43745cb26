/**
 * A hand-wrist radiograph in Chromium through the real stack: recognised as a hand, the sex entered (the PNG
 * has none), the bone age estimated and shown in years and months with its interval; the audit log has the
 * entered sex.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../main/store/store';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { HAS_CHROMIUM, screenshotPath, sessionPerSuite } from './harness';
import { importAndOpen, landmarks } from './study-page';

describe.skipIf(!HAS_SHARED_DATA || !HAS_CHROMIUM)('bone age in the study view', () => {
  const current = sessionPerSuite();

  it('a hand gets a bone age once the sex is entered, and no landmarks', async () => {
    const { page, dataDir } = current();
    await importAndOpen(page, sharedPath('boneage', 'rsna-sample', '7035.png'));
    await page.getByTestId('bone-age-panel').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('radiograph-kind').textContent()).resolves.toMatch(/Recognised as a hand \(P \d+%\)/);
    await expect(page.getByTestId('estimate-bone-age').isDisabled()).resolves.toBe(true);
    await page.getByTestId('sex-select').selectOption('F');
    await expect.poll(() => page.getByTestId('estimate-bone-age').isDisabled()).toBe(false);
    await page.getByTestId('estimate-bone-age').click();
    await expect.poll(() => page.getByTestId('bone-age').textContent(), { timeout: 60_000 }).toMatch(/^\d+ y \d+ mo$/);
    await expect(page.getByTestId('bone-age-interval').textContent()).resolves.toMatch(
      /^90% interval \d+ y \d+ mo – \d+ y \d+ mo/,
    );
    await expect(page.getByTestId('bone-age-difference').textContent()).resolves.toMatch(/Chronological age unknown/);
    expect(Object.keys(await landmarks(page))).toHaveLength(0);
    await page.screenshot({ path: screenshotPath('boneage-study-view') });
    const store = Store.open(dataDir, { readonly: true });
    try {
      const actions = store.auditLog(1).map((a) => a.action);
      expect(actions).toContain('patient-data');
      expect(actions).toContain('bone-age');
    } finally {
      store.close();
    }
  });
});
