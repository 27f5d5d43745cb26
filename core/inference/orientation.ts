/**
 * Image orientations: the eight ways a film or an export can be turned (rotated by a multiple of 90 degrees,
 * optionally mirrored). The model sees the *upright* image (patient facing right, head up); an orientation
 * says how the stored image is turned relative to it. `uprightToStored` maps a point of the upright image
 * back to the stored image, so landmarks are always returned in the stored image's coordinates.
 */
import type { PixelArray } from './intensity';

export interface Orientation {
  /** Clockwise rotation (degrees) that turns the stored image upright, applied first. */
  readonly rotate: 0 | 90 | 180 | 270;
  /** Then a left-right mirror (the patient faced left). */
  readonly mirror: boolean;
}

export const UPRIGHT: Orientation = { rotate: 0, mirror: false };

/** Identity first, then the likeliest alternatives of clinical files (mirrored, 180, 90, 270). */
export const ORIENTATIONS: readonly Orientation[] = [
  UPRIGHT,
  { rotate: 0, mirror: true },
  { rotate: 180, mirror: false },
  { rotate: 90, mirror: false },
  { rotate: 270, mirror: false },
  { rotate: 180, mirror: true },
  { rotate: 90, mirror: true },
  { rotate: 270, mirror: true },
];

export function isUpright(o: Orientation): boolean {
  return o.rotate === 0 && !o.mirror;
}

/** Plain words for the result and the UI, e.g. "rotated 90° clockwise and mirrored (patient faced left)". */
export function describeOrientation(o: Orientation): string {
  if (isUpright(o)) return 'upright, facing right (as stored)';
  const parts: string[] = [];
  if (o.rotate !== 0) parts.push(o.rotate === 180 ? 'rotated by 180°' : `rotated by ${o.rotate}° clockwise`);
  if (o.mirror) parts.push('mirrored left-right');
  return `the image was ${parts.join(' and ')} to bring it upright facing right; landmarks are given in the stored image`;
}

/** Size of the upright image. */
export function uprightSize(w: number, h: number, o: Orientation): { w: number; h: number } {
  return o.rotate === 90 || o.rotate === 270 ? { w: h, h: w } : { w, h };
}

/** A point of the upright image (pixel centres) -> the stored image of w x h. */
export function uprightToStored(o: Orientation, w: number, h: number, X: number, Y: number): { x: number; y: number } {
  const up = uprightSize(w, h, o);
  const rx = o.mirror ? up.w - 1 - X : X;
  const ry = Y;
  switch (o.rotate) {
    case 0:
      return { x: rx, y: ry };
    case 90:
      return { x: ry, y: h - 1 - rx };
    case 180:
      return { x: w - 1 - rx, y: h - 1 - ry };
    case 270:
      return { x: w - 1 - ry, y: rx };
  }
}

/** The upright image's pixels (same array type), by exact pixel moves. */
export function orientPixels<T extends PixelArray>(data: T, w: number, h: number, o: Orientation): T {
  if (isUpright(o)) return data;
  const up = uprightSize(w, h, o);
  const out = new (data.constructor as new (n: number) => T)(w * h);
  // The map is affine: stored index = i0 + X * dX + Y * dY.
  const index = (X: number, Y: number): number => {
    const p = uprightToStored(o, w, h, X, Y);
    return p.y * w + p.x;
  };
  const i0 = index(0, 0);
  const dX = index(1, 0) - i0;
  const dY = index(0, 1) - i0;
  let i = 0;
  for (let Y = 0; Y < up.h; Y++) {
    let k = i0 + Y * dY;
    // k walks the stored image along the upright row: always inside it.
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- k inside the image
    for (let X = 0; X < up.w; X++, k += dX) out[i++] = data[k]!;
  }
  return out;
}

/**
 * A small copy for trying orientations cheaply: every f-th pixel in both directions (the pixel nearest the
 * centre of each f x f cell), through the intensity table when given. Stage 1 averages it further into its
 * 128 x 128 input, so point sampling is enough to tell orientations apart, at 1/f^2 of the reads.
 */
export function downsample(
  data: PixelArray,
  w: number,
  h: number,
  f: number,
  table?: Float32Array,
): { data: Float32Array; w: number; h: number } {
  const sw = Math.ceil(w / f);
  const sh = Math.ceil(h / f);
  const out = new Float32Array(sw * sh);
  const half = Math.floor(f / 2);
  for (let y = 0; y < sh; y++) {
    const sy = Math.min(h - 1, y * f + half) * w;
    for (let x = 0; x < sw; x++) {
      // Clamped to the last row and column; an intensity table has one entry per pixel value.
      // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- clamped inside the image
      const v = data[sy + Math.min(w - 1, x * f + half)]!;
      // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- the table covers every pixel value
      out[y * sw + x] = table ? table[v]! : v;
    }
  }
  return { data: out, w: sw, h: sh };
}
