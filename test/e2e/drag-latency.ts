/**
 * Time from a real mouse move to the updated measurements in the stage panel, measured inside the page.
 * Two parts: the browser's input delivery (event timestamp to the first listener; Chromium aligns mouse
 * moves to animation frames, so this alone can approach a frame) and the workstation's own work (first
 * listener to the DOM mutation React commits: drag handling, core/cvm staging, rendering the panel).
 */
import type { Page } from 'playwright-core';
import { landmarks, toPage, viewTransform } from './study-page';

export interface LatencyFigures {
  readonly moves: number;
  readonly updates: number;
  /** From the first listener to the updated panel: the workstation's own work. */
  readonly medianHandlerMs: number;
  readonly p95HandlerMs: number;
  /** From the event's timestamp to the updated panel: delivery included. */
  readonly medianDomMs: number;
  readonly p95DomMs: number;
  /** From the event's timestamp to the next animation frame after the update. */
  readonly medianFrameMs: number;
  readonly p95FrameMs: number;
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export async function measureDragLatency(page: Page, name: string, moves: number): Promise<LatencyFigures> {
  await page.evaluate(() => {
    const w = window as unknown as {
      __lat: { lastMove: number; handlerStart: number; handler: number[]; dom: number[]; frame: number[] };
    };
    w.__lat = { lastMove: 0, handlerStart: 0, handler: [], dom: [], frame: [] };
    window.addEventListener(
      'mousemove',
      (e) => {
        w.__lat.lastMove = e.timeStamp;
        w.__lat.handlerStart = performance.now();
      },
      { capture: true },
    );
    const panel = document.querySelector('.stage-panel')!;
    new MutationObserver(() => {
      const start = w.__lat.lastMove;
      if (!start) return;
      w.__lat.lastMove = 0; // one sample per move
      w.__lat.handler.push(performance.now() - w.__lat.handlerStart);
      w.__lat.dom.push(performance.now() - start);
      requestAnimationFrame(() => w.__lat.frame.push(performance.now() - start));
    }).observe(panel, { subtree: true, characterData: true, childList: true });
  });
  const p = (await landmarks(page))[name]!;
  const from = await toPage(page, p);
  const scale = (await viewTransform(page)).scale;
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  // A slow circle of radius 3 mm (30 px at 0.1 mm/px), so the measurements change on every move.
  for (let i = 1; i <= moves; i++) {
    const a = (i / moves) * 4 * Math.PI;
    await page.mouse.move(from.x + Math.sin(a) * 30 * scale + 3, from.y + (1 - Math.cos(a)) * 30 * scale + 3);
  }
  await page.mouse.up();
  await page.waitForTimeout(200);
  const raw = await page.evaluate(
    () => (window as unknown as { __lat: { handler: number[]; dom: number[]; frame: number[] } }).__lat,
  );
  const handler = [...raw.handler].sort((a, b) => a - b);
  const dom = [...raw.dom].sort((a, b) => a - b);
  const frame = [...raw.frame].sort((a, b) => a - b);
  return {
    moves,
    updates: dom.length,
    medianHandlerMs: quantile(handler, 0.5),
    p95HandlerMs: quantile(handler, 0.95),
    medianDomMs: quantile(dom, 0.5),
    p95DomMs: quantile(dom, 0.95),
    medianFrameMs: quantile(frame, 0.5),
    p95FrameMs: quantile(frame, 0.95),
  };
}
