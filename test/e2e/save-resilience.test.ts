/**
 * No silent loss: the connection to the workstation service closes in the middle of a series of drags;
 * the save queue retries, reconnects and stores every edit, which a reload then shows.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { HAS_CHROMIUM, sessionPerSuite } from './harness';
import { annotatedPoints, dragLandmark, importAndOpen, landmarks, placeByHand, waitSaved } from './study-page';

const canRun = HAS_SHARED_DATA && HAS_CHROMIUM;

describe.skipIf(!canRun)('edits while the connection breaks', () => {
  const current = sessionPerSuite();

  it('every drag made before, during and after a closed socket is stored', async () => {
    const { page } = current();
    // Keep a handle on every WebSocket the page opens, so the test can break the live one.
    await page.addInitScript(() => {
      const sockets: WebSocket[] = [];
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      };
      (window as unknown as { __sockets: WebSocket[] }).__sockets = sockets;
    });
    await page.reload();
    const truth = annotatedPoints(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8'), '001');
    await importAndOpen(page, sharedPath('isbi2015', 'images', '001.jpg'), '0.1');
    await placeByHand(page, truth);

    const moves: Array<[string, number, number]> = [
      ['C3m', 0, 30],
      ['C4m', 0, -30],
      ['C2m', 30, 0],
      ['C3ua', -30, 0],
    ];
    for (const [i, [name, dx, dy]] of moves.entries()) {
      if (i === 1) {
        // Break the connection between two gestures of the series, then keep editing at once.
        await page.evaluate(() => {
          for (const s of (window as unknown as { __sockets: WebSocket[] }).__sockets) s.close();
        });
      }
      await dragLandmark(page, name, dx, dy);
    }
    await waitSaved(page);
    const edited = await landmarks(page);

    await page.reload(); // the route lives in the URL hash: the same study opens again from the database
    await expect.poll(async () => Object.keys(await landmarks(page)).length, { timeout: 60_000 }).toBe(13);
    const stored = await landmarks(page);
    for (const [name] of moves) {
      expect(stored[name]?.x).toBeCloseTo(edited[name]!.x, 3);
      expect(stored[name]?.y).toBeCloseTo(edited[name]!.y, 3);
      expect(Math.hypot(stored[name]!.x - truth[name]![0], stored[name]!.y - truth[name]![1])).toBeGreaterThan(20);
    }
  });
});
