/** Helpers that drive the study view like a person: find handles on screen, drag them, read the panel. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Download, Page } from 'playwright-core';
import { expect } from 'vitest';

export type Points = Record<string, { x: number; y: number }>;

export async function landmarks(page: Page): Promise<Points> {
  const json = await page.locator('.viewer-host').getAttribute('data-landmarks');
  return JSON.parse(json ?? '{}') as Points;
}

export async function viewTransform(page: Page): Promise<{ scale: number; x: number; y: number }> {
  const el = page.getByTestId('viewer');
  return {
    scale: Number(await el.getAttribute('data-scale')),
    x: Number(await el.getAttribute('data-x')),
    y: Number(await el.getAttribute('data-y')),
  };
}

/** Page coordinates of an image point. */
export async function toPage(page: Page, p: { x: number; y: number }): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId('viewer').boundingBox())!;
  const t = await viewTransform(page);
  return { x: box.x + p.x * t.scale + t.x, y: box.y + p.y * t.scale + t.y };
}

/** Drags a landmark handle by (dx, dy) image pixels with real mouse events, in `steps` moves. */
export async function dragLandmark(page: Page, name: string, dx: number, dy: number, steps = 10): Promise<void> {
  const p = (await landmarks(page))[name];
  if (!p) throw new Error(`landmark ${name} is not on the image`);
  const from = await toPage(page, p);
  const t = await viewTransform(page);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + 2, from.y + 2, { steps: 2 }); // past Konva's drag distance
  await page.mouse.move(from.x + dx * t.scale, from.y + dy * t.scale, { steps });
  await page.mouse.up();
}

export async function stageText(page: Page): Promise<string> {
  return (await page.getByTestId('cvm-stage').textContent()) ?? '';
}

export async function waitSaved(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.querySelector('[data-testid="save-state"]')?.textContent === 'Saved',
    null,
    { timeout: 30_000 },
  );
}

/**
 * Holds an arrow key down for `presses` keydowns (the first, then auto-repeats), as a person holding the key does.
 * A run of arrow presses ends a moment after the last keyup; holding the key keeps every press inside one run
 * however slowly the test machine sends them. `release: false` leaves the key down for the caller to release.
 */
export async function holdArrow(page: Page, key: string, presses: number, { release = true } = {}): Promise<void> {
  for (let i = 0; i < presses; i++) await page.keyboard.down(key);
  if (release) await page.keyboard.up(key);
}

/** The cvm13 annotation of one image, as {name: [x, y]}. */
export function annotatedPoints(annotationsJson: string, imageId: string): Record<string, [number, number]> {
  const parsed = JSON.parse(annotationsJson) as {
    images: Record<string, { points: Record<string, [number, number]> }>;
  };
  const image = parsed.images[imageId];
  if (!image) throw new Error(`image ${imageId} is not in the annotation file`);
  return image.points;
}

/** Places the 13 landmarks by hand: Place, then one click per landmark the guide asks for, at `points`. */
export async function placeByHand(page: Page, points: Record<string, [number, number]>): Promise<void> {
  await page.getByTestId('place').click();
  for (let i = 0; i < 13; i++) {
    const name = /Click (\w+):/.exec((await page.getByTestId('placing-guide').textContent()) ?? '')?.[1];
    const p = name ? points[name] : undefined;
    if (!name || !p) throw new Error(`the placing guide asked for an unknown landmark (${name ?? 'none'})`);
    const target = await toPage(page, { x: p[0], y: p[1] });
    await page.mouse.click(target.x, target.y);
  }
  await waitSaved(page);
}

/** Imports one file from the worklist (with a typed spacing for PNG/JPEG) and waits for its study to open. */
export async function importAndOpen(page: Page, file: string, spacingMm?: string): Promise<void> {
  if (spacingMm) await page.getByTestId('import-spacing').fill(spacingMm);
  await page.getByTestId('import-files').setInputFiles(file);
  await page.getByTestId('spacing').waitFor({ timeout: 60_000 });
}

/** Exports the open study's report (the app downloads a PDF and a PNG) and saves them as pdfFile and pngFile. */
export async function exportReport(page: Page, pdfFile: string, pngFile: string): Promise<void> {
  const downloads: Download[] = [];
  const onDownload = (d: Download): void => void downloads.push(d);
  page.on('download', onDownload);
  await page.getByTestId('export-report').click();
  await expect.poll(() => downloads.length, { timeout: 60_000 }).toBe(2);
  page.off('download', onDownload);
  for (const file of [pdfFile, pngFile]) mkdirSync(path.dirname(file), { recursive: true });
  await downloads.find((d) => d.suggestedFilename().endsWith('.pdf'))!.saveAs(pdfFile);
  await downloads.find((d) => d.suggestedFilename().endsWith('.png'))!.saveAs(pngFile);
}
