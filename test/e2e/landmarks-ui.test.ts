/**
 * The landmark work in Chromium: a mirrored cephalogram saved as TIFF is imported (TIFF through the file
 * dialog), analysed, turned upright automatically (the study view says so) and each landmark shows its
 * expected error in mm; a TIFF stored sideways with its Orientation tag opens upright and says so; a cephalogram
 * tilted by 15° is looked at turned back (the study view says so); a hand radiograph is answered with "Not a
 * lateral cephalogram" and no landmarks.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../main/dicom/index';
import { writeTiff, type TiffPage } from '../dicom/tiff-writer';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { HAS_CHROMIUM, screenshotPath, sessionPerSuite } from './harness';
import { importAndOpen, landmarks } from './study-page';

const canRun = HAS_SHARED_DATA && HAS_CHROMIUM;

/** 8-bit grey of a 16-bit image turned by `deg` clockwise about its centre, on a canvas keeping all of it. */
function tiltedTiff(
  src: { width: number; height: number; data: ArrayLike<number> },
  deg: number,
): { width: number; height: number; data: Uint8Array } {
  const { width: w, height: h } = src;
  const a = (deg * Math.PI) / 180;
  const [c, s] = [Math.cos(a), Math.sin(a)];
  const W = Math.ceil(w * c + h * s);
  const H = Math.ceil(w * s + h * c);
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const sx = Math.round((w - 1) / 2 + c * (x - (W - 1) / 2) + s * (y - (H - 1) / 2));
      const sy = Math.round((h - 1) / 2 - s * (x - (W - 1) / 2) + c * (y - (H - 1) / 2));
      if (sx >= 0 && sy >= 0 && sx < w && sy < h) data[y * W + x] = Math.round(src.data[sy * w + sx]! / 257);
    }
  return { width: W, height: H, data };
}
if (!canRun) console.warn('landmarks e2e skipped: needs ../shared/data and /usr/bin/chromium');

/**
 * ISBI 001's grey values (8 bit) as a Deflate TIFF file: pixel (x, y) of the w x h film goes to index `to(x, y, w, h)`
 * of the stored image, which is h wide and w high when `quarterTurn`.
 */
async function isbi001Tiff(
  name: string,
  quarterTurn: boolean,
  to: (x: number, y: number, w: number, h: number) => number,
  page: Partial<TiffPage>,
  pagesBefore: readonly TiffPage[] = [],
): Promise<string> {
  const jpeg = await decodeImageFile('001.jpg', readFileSync(sharedPath('isbi2015', 'images', '001.jpg')));
  const { width: w, height: h } = jpeg.pixels;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data[to(x, y, w, h)] = Math.round(jpeg.pixels.data[y * w + x]! / 257);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cvm-e2e-tiff-')), name);
  const size = quarterTurn ? { width: h, height: w } : { width: w, height: h };
  writeFileSync(file, writeTiff([...pagesBefore, { ...size, bits: 8, data, compression: 8, ...page }]));
  return file;
}

/** From the worklist, imports ISBI 001 tilted by `deg` clockwise as an 8-bit TIFF (0.1 mm) and opens it. */
async function importTilted(page: Page, deg: number): Promise<void> {
  await page.getByText('◀ Worklist').click();
  const jpeg = await decodeImageFile('001.jpg', readFileSync(sharedPath('isbi2015', 'images', '001.jpg')));
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cvm-e2e-tiff-')), `001-tilted-${deg}.tif`);
  const t = tiltedTiff(jpeg.pixels, deg);
  writeFileSync(file, writeTiff([{ ...t, bits: 8, compression: 8, resolution: [254, 254, 2] }]));
  await importAndOpen(page, file);
}

describe.skipIf(!canRun)('orientation, expected error and recognition in the study view', () => {
  const current = sessionPerSuite();

  it('a mirrored TIFF cephalogram is turned upright and every landmark shows its expected error', async () => {
    const { page } = current();
    const file = await isbi001Tiff('001-mirrored.tif', false, (x, y, w) => y * w + (w - 1 - x), {
      resolution: [254, 254, 2],
    });
    await importAndOpen(page, file);
    await expect.poll(() => page.getByTestId('spacing').textContent(), { timeout: 60_000 }).toMatch(/^0\.100 mm\/px/);
    await page.getByTestId('analyze').click();
    await page.getByTestId('orientation-note').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('orientation-note').textContent()).resolves.toMatch(/mirrored left-right/);
    const points = await landmarks(page);
    expect(Object.keys(points)).toHaveLength(13);
    // In the stored (mirrored) image the face is on the left: C2a lies left of C2p.
    expect(points.C2a!.x).toBeLessThan(points.C2p!.x);
    const list = await page.locator('.landmark-list').textContent();
    expect(list?.match(/±\d\.\d mm/g)?.length).toBe(13);
    expect(list).not.toMatch(/conf \d/);
    await page.keyboard.press('r');
    await page.screenshot({ path: screenshotPath('landmarks-01-mirrored-tiff') });
  });

  it('a cephalogram tilted by 15° is looked at turned back, and the study view says so', async () => {
    const { page } = current();
    await importTilted(page, 15);
    await page.getByTestId('analyze').click();
    await page.getByTestId('orientation-note').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('orientation-note').textContent()).resolves.toMatch(
      /looked at turned by 15° anticlockwise/,
    );
    expect(Object.keys(await landmarks(page))).toHaveLength(13);
    await page.keyboard.press('r');
    await page.screenshot({ path: screenshotPath('landmarks-03-tilted') });
  });

  it('a cephalogram tilted by 25° is imported as a cephalogram and gets its landmarks', async () => {
    const { page } = current();
    await importTilted(page, 25);
    // radiograph-kind 1.0.0 took this film for a hand (P 0.60) and the study view showed the bone-age panel until
    // the landmark model overruled it; 1.1.0 learnt tilts up to 35°.
    await page.getByTestId('analyze').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('bone-age-panel').count()).toBe(0);
    await page.getByTestId('analyze').click();
    await page.getByTestId('orientation-note').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('orientation-note').textContent()).resolves.toMatch(/looked at turned by (15|30)°/);
    expect(Object.keys(await landmarks(page))).toHaveLength(13);
    expect(await page.getByTestId('bone-age-panel').count()).toBe(0);
    await expect(page.locator('aside.side').textContent()).resolves.not.toMatch(/hand-wrist/);
    await page.keyboard.press('r');
    await page.screenshot({ path: screenshotPath('landmarks-04-tilted-25') });
  });

  it('a hand radiograph gets "Not a lateral cephalogram" and no landmarks', async () => {
    const { page } = current();
    await page.getByText('◀ Worklist').click();
    // The worklist shows the model's verdict and largest expected error in mm for the analysed TIFF, not a raw peak.
    // The worklist's own header: the study view's tables may still be on the page for a moment after the click.
    await expect(page.getByTestId('worklist').locator('thead').textContent()).resolves.toMatch(/AI check/);
    await expect
      .poll(() => page.getByTestId('worklist-ai-check').first().textContent(), { timeout: 30_000 })
      .toMatch(/^(ok|check|failed) · \d+\.\d mm$/);
    await page.screenshot({ path: screenshotPath('landmarks-00-worklist-ai-check') });
    await importAndOpen(page, sharedPath('boneage', 'rsna-sample', '7034.png'));
    await page.getByTestId('analyze').click();
    await expect
      .poll(async () => page.getByTestId('message').textContent(), { timeout: 120_000 })
      .toMatch(/Not a lateral cephalogram/);
    expect(Object.keys(await landmarks(page))).toHaveLength(0);
    await page.screenshot({ path: screenshotPath('landmarks-02-hand') });
  });

  it('a cephalogram whose column the model cannot find says so, not "not a lateral cephalogram"', async () => {
    const { page } = current();
    await page.getByText('◀ Worklist').click();
    // ISBI 105, a young child's film: the radiograph-kind model is sure it is a cephalogram (P 0.99), the landmark
    // model finds no plausible C2-C4 column on it.
    await importAndOpen(page, sharedPath('isbi2015', 'images', '105.jpg'));
    await page.getByTestId('analyze').click();
    await expect
      .poll(async () => page.getByTestId('message').textContent(), { timeout: 120_000 })
      .toMatch(/No C2-C4 column found .*takes the image for a cephalogram \(P \d+%\).*place the 13 by hand/);
    await expect(page.getByTestId('message').textContent()).resolves.not.toMatch(/Not a lateral cephalogram/);
    expect(Object.keys(await landmarks(page))).toHaveLength(0);
    await page.screenshot({ path: screenshotPath('landmarks-07-column-not-found') });
  });

  it('a TIFF stored sideways with its Orientation tag opens upright, says so, and needs no turn of the model', async () => {
    const { page } = current();
    await page.getByText('◀ Worklist').click();
    // Stored turned 90° clockwise (h wide, w high); Orientation 8 says "turn 90° anticlockwise to show".
    const file = await isbi001Tiff('001-sideways-tagged.tif', true, (x, y, _w, h) => x * h + (h - 1 - y), {
      extraTags: new Map([[274, [8]]]),
    });
    await importAndOpen(page, file);
    const note = page.getByTestId('file-orientation-note');
    await note.waitFor({ timeout: 60_000 });
    await expect(note.textContent()).resolves.toMatch(/rotated by 90° anticlockwise as its Orientation tag \(8\) says/);
    await page.getByTestId('analyze').click();
    await expect.poll(async () => Object.keys(await landmarks(page)).length, { timeout: 120_000 }).toBe(13);
    const points = await landmarks(page);
    // Upright and facing right as shown: C2a right of C2p, C4 below C2, and the model turned nothing itself.
    expect(points.C2a!.x).toBeGreaterThan(points.C2p!.x);
    expect(points.C4lp!.y).toBeGreaterThan(points.C2p!.y);
    expect(await page.getByTestId('orientation-note').count()).toBe(0);
    await page.keyboard.press('r');
    await page.screenshot({ path: screenshotPath('landmarks-05-tagged-tiff') });
  });
  it('a scan whose first page is a preview opens its full-resolution page and says which', async () => {
    const { page } = current();
    await page.getByText('◀ Worklist').click();
    const preview: TiffPage = {
      width: 97,
      height: 120,
      bits: 8,
      data: Uint8Array.from({ length: 97 * 120 }, (_, i) => i % 251),
      extraTags: new Map([[254, [1]]]),
    };
    const file = await isbi001Tiff('001-with-preview.tif', false, (x, y, w) => y * w + x, {}, [preview]);
    await importAndOpen(page, file);
    const note = page.getByTestId('file-page-note');
    await note.waitFor({ timeout: 60_000 });
    await expect(note.textContent()).resolves.toMatch(
      /^Shown: page 2 of the 2 in the file \(the first at full resolution; those before it are reduced-resolution copies\)\.$/,
    );
    await page.getByTestId('analyze').click();
    await expect.poll(async () => Object.keys(await landmarks(page)).length, { timeout: 120_000 }).toBe(13);
    await page.screenshot({ path: screenshotPath('landmarks-06-tiff-preview-page') });
  });
});
