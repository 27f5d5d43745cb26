/**
 * The calibration dialog through the one calibration path: marks two points of a known distance on an
 * uncalibrated JPEG, refuses marks that are too close with the reason, and shows the stored spacing.
 */
import { describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { HAS_CHROMIUM, sessionPerSuite } from './harness';
import { importAndOpen, toPage } from './study-page';
import type { Page } from 'playwright-core';

const canRun = HAS_SHARED_DATA && HAS_CHROMIUM;

async function markTwoPoints(page: Page, a: { x: number; y: number }, b: { x: number; y: number }): Promise<void> {
  await page.getByTestId('calibrate').click();
  await page.getByRole('button', { name: 'Mark two points…' }).click();
  for (const p of [a, b]) {
    const at = await toPage(page, p);
    await page.mouse.click(at.x, at.y);
  }
  await page.getByTestId('calibrate-value').waitFor();
}

describe.skipIf(!canRun)('calibrating an image in the dialog', () => {
  const current = sessionPerSuite();

  it('refuses two marks closer than 50 px, then calibrates from 50 mm over 500 px', async () => {
    const { page } = current();
    await importAndOpen(page, sharedPath('isbi2015', 'images', '002.jpg'));
    await expect.poll(() => page.getByTestId('spacing').textContent(), { timeout: 60_000 }).toBe('uncalibrated');

    await markTwoPoints(page, { x: 900, y: 1200 }, { x: 920, y: 1200 });
    await page.getByTestId('calibrate-value').fill('2');
    await page.getByTestId('calibrate-apply').click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/at least 50 px/);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByTestId('spacing').textContent()).resolves.toBe('uncalibrated');

    await markTwoPoints(page, { x: 900, y: 800 }, { x: 900, y: 1300 });
    await page.getByTestId('calibrate-value').fill('50');
    await page.getByTestId('calibrate-apply').click();
    await expect.poll(() => page.getByTestId('spacing').textContent()).toMatch(/^0\.100 mm\/px/);
  });
});
