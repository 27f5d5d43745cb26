import { describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { HAS_CHROMIUM, screenshotPath, sessionPerSuite, type Session } from './harness';
import { viewTransform } from './study-page';

const canRun = HAS_SHARED_DATA && HAS_CHROMIUM;
if (!canRun)
  console.warn(
    `open-image e2e skipped: ${HAS_SHARED_DATA ? '' : '../shared/data is absent; '}${HAS_CHROMIUM ? '' : 'no /usr/bin/chromium'}`,
  );

/** Mean and spread of the grey values drawn on the viewer's canvases in a screen rectangle. */
async function drawnPixelStats(
  session: Session,
  rect: { x: number; y: number; w: number; h: number },
): Promise<{ mean: number; std: number }> {
  return session.page.evaluate((r) => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewer"] canvas');
    if (!canvas) throw new Error('no canvas');
    const ratio = canvas.width / canvas.clientWidth;
    const data = canvas.getContext('2d')!.getImageData(r.x * ratio, r.y * ratio, r.w * ratio, r.h * ratio).data;
    let sum = 0;
    let sq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      sum += data[i]!;
      sq += data[i]! * data[i]!;
    }
    const mean = sum / n;
    return { mean, std: Math.sqrt(sq / n - mean * mean) };
  }, rect);
}

describe.skipIf(!canRun)('opening a cephalogram in browser mode', () => {
  const current = sessionPerSuite();

  it('draws the imported JPEG, fitted to the window, and says it is uncalibrated', async () => {
    const { page } = current();
    await page.getByTestId('import-files').setInputFiles(sharedPath('isbi2015', 'images', '001.jpg'));
    await expect.poll(() => page.getByTestId('spacing').textContent(), { timeout: 60_000 }).toBe('uncalibrated');
    await expect.poll(() => page.getByTestId('viewer').getAttribute('data-scale')).not.toBe('');
    const box = (await page.getByTestId('viewer').boundingBox())!;
    const view = await viewTransform(current().page);
    // Fitted: the whole 2400 px height fits the viewer, and the image is centred.
    expect(2400 * view.scale).toBeLessThanOrEqual(box.height);
    expect(2400 * view.scale).toBeGreaterThan(box.height * 0.85);
    const center = await drawnPixelStats(current(), { x: box.width / 2 - 40, y: box.height / 2 - 40, w: 80, h: 80 });
    expect(center.std).toBeGreaterThan(3); // a radiograph, not a flat fill
    const outside = await drawnPixelStats(current(), { x: 2, y: 2, w: 10, h: 10 });
    expect(outside.std).toBeLessThan(1);
    await page.screenshot({ path: screenshotPath('foundation-01-opened') });
  });

  it('zooms with the wheel around the cursor, keeping the image point under it fixed', async () => {
    const { page } = current();
    const box = (await page.getByTestId('viewer').boundingBox())!;
    const before = await viewTransform(current().page);
    const cursor = { x: box.width * 0.4, y: box.height * 0.6 };
    const imageBefore = { x: (cursor.x - before.x) / before.scale, y: (cursor.y - before.y) / before.scale };
    await page.mouse.move(box.x + cursor.x, box.y + cursor.y);
    await page.mouse.wheel(0, -300);
    await expect.poll(async () => (await viewTransform(current().page)).scale).toBeGreaterThan(before.scale * 1.5);
    const after = await viewTransform(current().page);
    const imageAfter = { x: (cursor.x - after.x) / after.scale, y: (cursor.y - after.y) / after.scale };
    // Within 2 image pixels: the mouse position is rounded to whole screen pixels.
    expect(Math.abs(imageAfter.x - imageBefore.x)).toBeLessThan(2);
    expect(Math.abs(imageAfter.y - imageBefore.y)).toBeLessThan(2);
    await page.screenshot({ path: screenshotPath('foundation-02-zoomed') });
  });

  it('pans by dragging and the drawn pixels move with the image', async () => {
    const { page } = current();
    const box = (await page.getByTestId('viewer').boundingBox())!;
    const before = await viewTransform(current().page);
    const probe = { x: box.width / 2, y: box.height / 2, w: 30, h: 30 };
    const pixelsBefore = await drawnPixelStats(current(), probe);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 80, { steps: 8 });
    await page.mouse.up();
    const after = await viewTransform(current().page);
    expect(after.x - before.x).toBeCloseTo(120, 0);
    expect(after.y - before.y).toBeCloseTo(80, 0);
    const pixelsMoved = await drawnPixelStats(current(), { ...probe, x: probe.x + 120, y: probe.y + 80 });
    expect(pixelsMoved.mean).toBeCloseTo(pixelsBefore.mean, 0);
    await page.screenshot({ path: screenshotPath('foundation-03-panned') });
  });
});
