/**
 * A hand-wrist radiograph in Chromium through the real stack: recognised as a hand, the sex entered (the PNG
 * has none), the bone age estimated and shown in years and months with its interval; the audit log has the
 * entered sex. Then the bone age is approved (refused before the estimate) and the one-page report is the
 * bone-age report (checked with poppler's pdftotext).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../main/store/store';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';
import { HAS_CHROMIUM, SCREENSHOT_DIR, screenshotPath, sessionPerSuite } from './harness';
import { exportReport, importAndOpen, landmarks } from './study-page';

describe.skipIf(!HAS_SHARED_DATA || !HAS_CHROMIUM)('bone age in the study view', () => {
  const current = sessionPerSuite();

  it('a hand gets a bone age once the sex is entered, and no landmarks', async () => {
    const { page, dataDir } = current();
    await importAndOpen(page, sharedPath('boneage', 'rsna-sample', '7035.png'));
    await page.getByTestId('bone-age-panel').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('radiograph-kind').textContent()).resolves.toMatch(/Recognised as a hand \(P \d+%\)/);
    await expect(page.getByTestId('estimate-bone-age').isDisabled()).resolves.toBe(true);
    // nothing to approve yet: the rules say why, in place
    await expect
      .poll(() => page.getByTestId('approval-reasons').textContent())
      .toMatch(/no bone age to approve: estimate it first/);
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

  it('the bone age is what gets approved, and the report is the bone-age report', { timeout: 180_000 }, async () => {
    const { page, dataDir } = current();
    await expect.poll(() => page.getByTestId('approval-reasons').count()).toBe(0);
    await page.getByTestId('approve').click();
    await expect.poll(() => page.getByTestId('review-status').textContent()).toMatch(/^Approved by /);
    const store = Store.open(dataDir, { readonly: true });
    try {
      const approval = store.auditLog(1).find((a) => a.action === 'bone-age-approval');
      expect(approval?.summary).toMatch(/^approved bone age \d+ y \d+ mo \(90% interval .*\), girl/);
    } finally {
      store.close();
    }
    await page.screenshot({ path: screenshotPath('boneage-approved') });

    const pdfFile = path.join(SCREENSHOT_DIR, 'boneage-report.pdf');
    await exportReport(page, pdfFile, screenshotPath('boneage-report-page'));
    if (!existsSync('/usr/bin/pdftotext')) return;
    const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    const shown = (await page.getByTestId('bone-age').textContent())!.trim();
    expect(text).toContain('Hand-wrist bone age report');
    expect(text).toContain(shown);
    expect(text).toMatch(/90% interval \d+ y \d+ mo to \d+ y \d+ mo/);
    expect(text).toMatch(/For a girl \(sex: entered in the app\)/);
    expect(text).toMatch(/Chronological age unknown/);
    expect(text).toMatch(/LIMITS/);
    expect(text).toMatch(/Model: boneage-rsna100 /);
    expect(text).toMatch(/Review: bone age approved by /);
    expect(text).toMatch(/Decision aid: the bone age supports/);
    expect(text).not.toMatch(/CRITERIA|Cervical vertebral maturation \(CVM\) report/);
    execFileSync('pdftoppm', [
      '-png',
      '-r',
      '60',
      '-singlefile',
      pdfFile,
      path.join(SCREENSHOT_DIR, 'boneage-report-pdf'),
    ]);
    mkdirSync(path.join(REPO_ROOT, 'docs', 'img'), { recursive: true });
    copyFileSync(screenshotPath('boneage-report-page'), path.join(REPO_ROOT, 'docs', 'img', 'boneage-report.png'));
  });
});
