/**
 * Branded coordinates, so image pixels, millimetres and screen points cannot be mixed by accident.
 * Image coordinates: x right, y down, the centre of pixel (col i, row j) at (i, j).
 */
declare const imageBrand: unique symbol;
declare const mmBrand: unique symbol;
declare const screenBrand: unique symbol;

export type ImagePoint = { readonly x: number; readonly y: number; readonly [imageBrand]: true };
export type MmPoint = { readonly x: number; readonly y: number; readonly [mmBrand]: true };
export type ScreenPoint = { readonly x: number; readonly y: number; readonly [screenBrand]: true };
export type Point = ImagePoint | MmPoint | ScreenPoint;

export const imagePoint = (x: number, y: number): ImagePoint => ({ x, y }) as ImagePoint;
export const mmPoint = (x: number, y: number): MmPoint => ({ x, y }) as MmPoint;
export const screenPoint = (x: number, y: number): ScreenPoint => ({ x, y }) as ScreenPoint;

/** Physical size of one pixel: rowMm is the distance between rows (y), colMm between columns (x). */
export interface PixelSpacingMm {
  readonly rowMm: number;
  readonly colMm: number;
}

export function distance<P extends Point>(a: P, b: P): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** Image pixels to millimetres, honouring non-square pixels. */
export function imageToMm(p: ImagePoint, spacing: PixelSpacingMm): MmPoint {
  return mmPoint(p.x * spacing.colMm, p.y * spacing.rowMm);
}

/**
 * Where p projects onto the line through a and b, as a fraction of a->b: 0 at a, 1 at b.
 * NaN when a and b coincide.
 */
export function projectOntoLine<P extends Point>(p: P, a: P, b: P): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthSquared = dx * dx + dy * dy;
  return lengthSquared === 0 ? Number.NaN : ((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSquared;
}

/**
 * Distance of p from the line through a and b, positive when p lies to the left of a->b in a
 * y-up frame (equivalently, to the right on screen with y down). NaN when a and b coincide.
 */
export function signedDistanceToLine<P extends Point>(p: P, a: P, b: P): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy);
  return length === 0 ? Number.NaN : (dx * (p.y - a.y) - dy * (p.x - a.x)) / length;
}
