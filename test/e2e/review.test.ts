/**
 * The review in Chromium through the real stack: a hand radiograph gets no landmarks and cannot be approved; an
 * anatomically
 * impossible configuration is shown at once on the handles and refused; an unusual one is approved only
 * with a confirmation that lands in the audit log; the report opens as a PDF (checked with poppler's
 * pdftotext/pdffonts/pdftoppm) and shows the stage, the warnings, the model's expected error and the scale bar.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../main/store/store';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';
import { HAS_CHROMIUM, SCREENSHOT_DIR, screenshotPath, sessionPerSuite } from './harness';
import { dragLandmark, exportReport, importAndOpen, landmarks, stageText, waitSaved } from './study-page';

const HAS_POPPLER = existsSync('/usr/bin/pdftotext') && existsSync('/usr/bin/pdftoppm');
const canRun = HAS_SHARED_DATA && HAS_CHROMIUM && HAS_POPPLER;
if (!canRun)
  console.warn('review e2e skipped: needs ../shared/data, /usr/bin/chromium and poppler-utils (pdftotext, pdftoppm)');

async function analyse(page: import('playwright-core').Page): Promise<void> {
  await page.getByTestId('analyze').click();
  await expect.poll(async () => Object.keys(await landmarks(page)).length, { timeout: 120_000 }).toBe(13);
  await expect.poll(() => page.getByTestId('busy').count(), { timeout: 120_000 }).toBe(0);
}

describe.skipIf(!canRun)('approval means a clinician checked it', () => {
  const current = sessionPerSuite();

  it(
    'a hand radiograph cannot be approved: the reason is shown in place, as an error',
    { timeout: 240_000 },
    async () => {
      const { page, dataDir } = current();
      await importAndOpen(page, sharedPath('boneage', 'rsna-sample', '7034.png'), '0.1');
      await page.getByTestId('analyze').click();
      // The radiograph-kind model recognises the hand and the landmark model is not run (or, without a kind
      // model, the landmark pipeline's recogniser says it is not a cephalogram): either way an error.
      await expect
        .poll(
          async () => (await page.getByTestId('message').count()) + (await page.getByTestId('quality-warning').count()),
          { timeout: 150_000 },
        )
        .toBeGreaterThan(0);
      const shown =
        (await page.getByTestId('message').count()) > 0
          ? page.getByTestId('message')
          : page.getByTestId('quality-warning');
      await expect(shown.getAttribute('data-kind')).resolves.toBe('error');
      await expect(page.getByTestId('approval-reasons').getAttribute('data-kind')).resolves.toBe('refused');
      await expect(page.getByTestId('approval-reasons').textContent()).resolves.toMatch(
        /hand-wrist radiograph|no bone age to approve|does not look like a lateral cephalogram|did not find C2-C4/,
      );
      await page.getByTestId('approve').click({ force: true });
      await expect.poll(() => page.getByTestId('message').getAttribute('data-kind')).toBe('error');
      await expect(page.getByTestId('message').textContent()).resolves.toMatch(/^.*Not approved: /);
      // Ctrl+Enter (approve and next) is refused the same way.
      await page.locator('.viewer-host').focus();
      await page.keyboard.press('Control+Enter');
      await expect(page.getByTestId('review-status').textContent()).resolves.toBe('Unreviewed');
      // The service refuses too, whatever a client sends.
      const store = Store.open(dataDir, { readonly: true });
      try {
        expect(store.loadStudy(1).review.status).toBe('unreviewed');
      } finally {
        store.close();
      }
      await page.screenshot({ path: screenshotPath('review-hand-refused') });
    },
  );

  it('a collapsed C4 shows at once on the handles and in the panel, and is refused', async () => {
    const { page } = current();
    await page.keyboard.press('Backspace');
    await importAndOpen(page, sharedPath('isbi2015', 'images', '001.jpg'), '0.1');
    await analyse(page);
    await page.keyboard.press('r');
    expect(await page.locator('.viewer-host').getAttribute('data-flagged')).toBe('');
    const p = await landmarks(page);
    // Pull C4's anterior upper corner down onto its lower corner: the body collapses (anterior side ~5%).
    const target = { x: p.C4la!.x + (p.C4ua!.x - p.C4la!.x) * 0.05, y: p.C4la!.y + (p.C4ua!.y - p.C4la!.y) * 0.05 };
    await dragLandmark(page, 'C4ua', target.x - p.C4ua!.x, target.y - p.C4ua!.y, 12);
    await waitSaved(page);
    await expect(page.locator('.viewer-host').getAttribute('data-flagged')).resolves.toContain('C4ua');
    await expect(page.getByTestId('plausibility').getAttribute('data-kind')).resolves.toBe('implausible');
    await expect(page.getByTestId('plausibility').textContent()).resolves.toMatch(/C4 body is collapsed/);
    await expect(page.getByTestId('stage-implausible').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: screenshotPath('review-collapsed') });
    // aria-disabled, not disabled: the button still explains itself when pressed.
    await page.getByTestId('approve').click({ force: true });
    await expect(page.getByTestId('review-status').textContent()).resolves.toBe('In progress');
    await expect(page.getByTestId('confirm-approval').count()).resolves.toBe(0);
  });

  it('an unusually flat C4 is approved only with the confirmation, which the audit log records', async () => {
    const { page, dataDir } = current();
    const p = await landmarks(page);
    await page.keyboard.press('Control+z'); // back to the AI position
    await waitSaved(page);
    const ai = await landmarks(page);
    expect(ai.C4ua!.y).not.toBeCloseTo(p.C4ua!.y, 3);
    // Anterior side at ~25% of the body width: unusual, not impossible.
    const width = Math.hypot(ai.C4ua!.x - ai.C4up!.x, ai.C4ua!.y - ai.C4up!.y);
    const dir = { x: ai.C4ua!.x - ai.C4la!.x, y: ai.C4ua!.y - ai.C4la!.y };
    const len = Math.hypot(dir.x, dir.y);
    const target = { x: ai.C4la!.x + (dir.x / len) * width * 0.25, y: ai.C4la!.y + (dir.y / len) * width * 0.25 };
    await dragLandmark(page, 'C4ua', target.x - ai.C4ua!.x, target.y - ai.C4ua!.y, 12);
    await waitSaved(page);
    await expect(page.getByTestId('plausibility').getAttribute('data-kind')).resolves.toBe('check');
    await expect(page.getByTestId('approval-reasons').getAttribute('data-kind')).resolves.toBe('confirm');
    await page.getByTestId('approve').click();
    await page.getByTestId('confirm-approval').waitFor();
    await expect(page.getByTestId('confirm-approve').isDisabled()).resolves.toBe(true);
    await page.screenshot({ path: screenshotPath('review-confirm') });
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('review-status').textContent()).resolves.toBe('In progress');
    await page.getByTestId('approve').click();
    await page.getByTestId('confirm-checked').check();
    await page.getByTestId('confirm-approve').click();
    await expect.poll(() => page.getByTestId('review-status').textContent()).toMatch(/^Approved by /);
    const store = Store.open(dataDir, { readonly: true });
    try {
      const entry = store.auditLog(2).find((e) => e.action === 'review')!;
      expect(entry.summary).toMatch(
        /-> approved \(confirmed: Checked every landmark on the image despite: The C4 body is unusually flat/,
      );
    } finally {
      store.close();
    }
  });

  it('the report opens as an A4 PDF with embedded fonts, the stage, the warnings, the expected error and the scale bar', async () => {
    const { page } = current();
    const pdfFile = path.join(SCREENSHOT_DIR, 'review-report.pdf');
    const pngFile = screenshotPath('review-report-page');
    await exportReport(page, pdfFile, pngFile);
    const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    const stage = (await stageText(page)).trim();
    expect(text).toContain('Cervical vertebral maturation (CVM) report');
    expect(text).toContain(stage.split(' ')[0]!);
    expect(text).toMatch(/QUALITY\s+check the warnings/);
    expect(text).toContain('The C4 body is unusually flat');
    expect(text).toMatch(
      /Scale bar (10|5) mm; crop printed at \d+\.\d× life size; rings: the model's\s+expected error/,
    );
    // The model's expected error for the 12 points it placed; C4ua, moved above, is the reviewer's.
    expect(text).toMatch(/Expected error of the model's 12 landmarks\s+\(cross-validated\):\s+median ±0\.\d mm/);
    expect(text).toMatch(/Placed or moved by a\s+person: C4ua\./);
    expect(text).toMatch(/Pixel spacing: 0\.100 mm\/px \(entered\)/);
    const shipped = JSON.parse(readFileSync(path.join(REPO_ROOT, 'models', 'cvm13-unet', 'manifest.json'), 'utf8')) as {
      version: string;
    };
    expect(text).toContain(`Model: cvm13-unet ${shipped.version}`);
    expect(text).toMatch(/Review: approved by /);
    expect(text).toMatch(/Decision aid/);
    expect(text).not.toMatch(/C[34]\.[a-z]+[A-Z]/); // no internal ids such as C3.heightRatio
    const info = execFileSync('pdfinfo', [pdfFile], { encoding: 'utf8' });
    expect(info).toMatch(/Pages:\s+1/);
    expect(info).toMatch(/Page size:\s+595\.28 x 841\.89 pts \(A4\)/);
    const fonts = execFileSync('pdffonts', [pdfFile], { encoding: 'utf8' });
    expect(fonts).toMatch(/DejaVuSans/);
    for (const line of fonts.split('\n').slice(2).filter(Boolean)) expect(line).toMatch(/Identity-H\s+yes\s/); // embedded
    const png = readFileSync(pngFile);
    expect(png.readUInt32BE(16)).toBe(1240); // A4 at 150 dpi
    expect(png.readUInt32BE(20)).toBe(1754);
    execFileSync('pdftoppm', [
      '-png',
      '-r',
      '60',
      '-singlefile',
      pdfFile,
      path.join(SCREENSHOT_DIR, 'review-report-pdf'),
    ]);
    expect(existsSync(path.join(SCREENSHOT_DIR, 'review-report-pdf.png'))).toBe(true);
    // For docs/workstation.md: the PNG page and the PDF as poppler renders it.
    mkdirSync(path.join(REPO_ROOT, 'docs', 'img'), { recursive: true });
    copyFileSync(pngFile, path.join(REPO_ROOT, 'docs', 'img', 'report.png'));
    copyFileSync(
      path.join(SCREENSHOT_DIR, 'review-report-pdf.png'),
      path.join(REPO_ROOT, 'docs', 'img', 'report-pdf.png'),
    );
  });

  it('a long file name and long outcomes still fit the page (wrapped or cut, never over the margin)', async () => {
    const { page } = current();
    const longName = `${'Lateral cephalogram of a patient with a very long file name '.repeat(3).trim().replace(/ /g, '_')}_003.jpg`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-long-'));
    const file = path.join(dir, longName);
    copyFileSync(sharedPath('isbi2015', 'images', '003.jpg'), file);
    await page.keyboard.press('Backspace');
    await importAndOpen(page, file, '0.1');
    await analyse(page);
    const downloads: import('playwright-core').Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByTestId('export-report').click();
    await expect.poll(() => downloads.length, { timeout: 60_000 }).toBe(2);
    const pdfFile = path.join(dir, 'long.pdf');
    await downloads.find((d) => d.suggestedFilename().endsWith('.pdf'))!.saveAs(pdfFile);
    await downloads
      .find((d) => d.suggestedFilename().endsWith('.png'))!
      .saveAs(path.join(REPO_ROOT, 'docs', 'img', 'report-long-name.png'));
    // Every word of text lies inside the page's 40 pt margins (pdftotext -bbox gives each word's box).
    const bbox = execFileSync('pdftotext', ['-bbox', pdfFile, '-'], { encoding: 'utf8' });
    const xMax = [...bbox.matchAll(/xMax="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(xMax.length).toBeGreaterThan(100);
    expect(Math.max(...xMax)).toBeLessThanOrEqual(595.28 - 40 + 0.5);
    const text = execFileSync('pdftotext', [pdfFile, '-'], { encoding: 'utf8' }).replace(/\s+/g, '');
    expect(text).toContain('Lateral_cephalogram_of_a_patient');
    rmSync(dir, { recursive: true, force: true });
  });
});
