import { describe, expect, it } from 'vitest';
import { imagePoint, screenPoint } from '../../core/geometry/index';
import {
  actualSizeTransform,
  fitRegion,
  fitTransform,
  imageToScreen,
  MAX_SCALE,
  panBy,
  screenToImage,
  zoomAt,
} from '../../renderer/canvas/view-transform';

describe('view transform', () => {
  it('fits a tall image inside the viewport, centred', () => {
    const t = fitTransform({ width: 1935, height: 2400 }, { width: 1000, height: 700 }, 0);
    expect(t.scale).toBeCloseTo(700 / 2400);
    expect(t.y).toBeCloseTo(0);
    expect(t.x).toBeCloseTo((1000 - 1935 * t.scale) / 2);
  });

  it('maps screen to image and back exactly', () => {
    const t = { scale: 0.37, x: 12.5, y: -40 };
    const p = imagePoint(1234.5, 987.25);
    const back = screenToImage(t, imageToScreen(t, p));
    expect(back.x).toBeCloseTo(p.x, 9);
    expect(back.y).toBeCloseTo(p.y, 9);
  });

  it.each([0.5, 1.2, 3])('zooming by %s keeps the image point under the cursor fixed', (factor) => {
    const t = { scale: 0.3, x: 100, y: 50 };
    const cursor = screenPoint(420, 310);
    const before = screenToImage(t, cursor);
    const after = screenToImage(zoomAt(t, cursor, factor), cursor);
    expect(after.x).toBeCloseTo(before.x, 9);
    expect(after.y).toBeCloseTo(before.y, 9);
  });

  it('never zooms beyond the maximum scale', () => {
    expect(zoomAt({ scale: 30, x: 0, y: 0 }, screenPoint(0, 0), 10).scale).toBe(MAX_SCALE);
  });

  it('pans by the screen distance dragged', () => {
    expect(panBy({ scale: 2, x: 1, y: 2 }, 10, -5)).toEqual({ scale: 2, x: 11, y: -3 });
  });

  it('shows one image pixel per screen pixel at actual size, around the viewport centre', () => {
    const viewport = { width: 800, height: 600 };
    const t = { scale: 0.25, x: 10, y: 20 };
    const centreBefore = screenToImage(t, screenPoint(400, 300));
    const one = actualSizeTransform(t, viewport);
    expect(one.scale).toBe(1);
    const centreAfter = screenToImage(one, screenPoint(400, 300));
    expect(centreAfter.x).toBeCloseTo(centreBefore.x, 9);
  });

  it('fits a region so that its centre lands on the viewport centre', () => {
    const t = fitRegion({ x: 300, y: 1700, width: 400, height: 600 }, { width: 800, height: 600 }, 0);
    const c = imageToScreen(t, imagePoint(500, 2000));
    expect(c.x).toBeCloseTo(400);
    expect(c.y).toBeCloseTo(300);
    expect(t.scale).toBeCloseTo(1);
  });
});
