/**
 * The mapping between image pixels and screen pixels of the viewer: screen = image * scale + offset.
 * Pure functions so zoom and pan are tested without a browser.
 */
import { imagePoint, screenPoint, type ImagePoint, type ScreenPoint } from '../../core/geometry/index';

export interface ViewTransform {
  readonly scale: number;
  readonly x: number;
  readonly y: number;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 40;

const clampScale = (s: number): number => Math.min(MAX_SCALE, Math.max(MIN_SCALE, s));

/** The whole image, centred, with a small margin. */
export function fitTransform(image: Size, viewport: Size, margin = 16): ViewTransform {
  const scale = clampScale(
    Math.min((viewport.width - 2 * margin) / image.width, (viewport.height - 2 * margin) / image.height),
  );
  return { scale, x: (viewport.width - image.width * scale) / 2, y: (viewport.height - image.height * scale) / 2 };
}

/** A region of the image (e.g. C2-C4) fitted to the viewport. */
export function fitRegion(
  region: { x: number; y: number; width: number; height: number },
  viewport: Size,
  margin = 24,
): ViewTransform {
  const scale = clampScale(
    Math.min((viewport.width - 2 * margin) / region.width, (viewport.height - 2 * margin) / region.height),
  );
  return {
    scale,
    x: viewport.width / 2 - (region.x + region.width / 2) * scale,
    y: viewport.height / 2 - (region.y + region.height / 2) * scale,
  };
}

/** One image pixel per screen pixel, keeping the image point at the viewport centre where it is. */
export function actualSizeTransform(t: ViewTransform, viewport: Size): ViewTransform {
  return zoomAt(t, screenPoint(viewport.width / 2, viewport.height / 2), 1 / t.scale);
}

export function screenToImage(t: ViewTransform, p: ScreenPoint): ImagePoint {
  return imagePoint((p.x - t.x) / t.scale, (p.y - t.y) / t.scale);
}

export function imageToScreen(t: ViewTransform, p: ImagePoint): ScreenPoint {
  return screenPoint(p.x * t.scale + t.x, p.y * t.scale + t.y);
}

/** Zoom by `factor` keeping the image point under `anchor` fixed on screen. */
export function zoomAt(t: ViewTransform, anchor: ScreenPoint, factor: number): ViewTransform {
  const scale = clampScale(t.scale * factor);
  const k = scale / t.scale;
  return { scale, x: anchor.x - (anchor.x - t.x) * k, y: anchor.y - (anchor.y - t.y) * k };
}

export function panBy(t: ViewTransform, dx: number, dy: number): ViewTransform {
  return { scale: t.scale, x: t.x + dx, y: t.y + dy };
}

/** Wheel delta (pixels) to a zoom factor: one notch (100 px) is about 1.2x. */
export function wheelZoomFactor(deltaY: number): number {
  return Math.exp(-deltaY * 0.0018);
}
