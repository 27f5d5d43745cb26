/** Helpers that drive the study view like a person: find handles on screen, drag them, read the panel. */
import type { Page } from 'playwright-core';

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
  await page.waitForFunction(() => document.querySelector('[data-testid="save-state"]')?.textContent === 'Saved', null, { timeout: 30_000 });
}
