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
/** The commonest other orientation: upright, the patient facing left. */
export const MIRRORED: Orientation = { rotate: 0, mirror: true };

/** Identity first, then the likeliest alternatives of clinical files (mirrored, 180, 90, 270). */
export const ORIENTATIONS: readonly Orientation[] = [
  UPRIGHT,
  MIRRORED,
  { rotate: 180, mirror: false },
  { rotate: 90, mirror: false },
  { rotate: 270, mirror: false },
  { rotate: 180, mirror: true },
  { rotate: 90, mirror: true },
  { rotate: 270, mirror: true },
];

/**
 * The TIFF/Exif Orientation tag (274; 1-8) as the turn that shows the stored image as its writer meant it (what
 * image viewers do): 2 mirrored, 3 180°, 4 flipped top-bottom, 5 transposed, 6 90° clockwise, 7 transversed,
 * 8 90° anticlockwise. Null for 1 (as stored) and for values outside 1-8.
 */
export function orientationOfTag(tag: number): Orientation | null {
  const byTag: Readonly<Record<number, Orientation>> = {
    2: { rotate: 0, mirror: true },
    3: { rotate: 180, mirror: false },
    4: { rotate: 180, mirror: true },
    5: { rotate: 90, mirror: true },
    6: { rotate: 90, mirror: false },
    7: { rotate: 270, mirror: true },
    8: { rotate: 270, mirror: false },
  };
  return byTag[tag] ?? null;
}

/** One line for the image's notes: how a file's Orientation tag turned it, e.g. "rotated by 90° clockwise". */
export function describeTagTurn(o: Orientation): string {
  const rotated = {
    0: '',
    90: 'rotated by 90° clockwise',
    180: 'rotated by 180°',
    270: 'rotated by 90° anticlockwise',
  }[o.rotate];
  return [rotated, o.mirror ? 'mirrored left-right' : ''].filter(Boolean).join(' and ');
}

export function isUpright(o: Orientation): boolean {
  return o.rotate === 0 && !o.mirror;
}

/**
 * Plain words for the result and the UI, e.g. "the image was rotated by 90° clockwise and mirrored left-right
 * to bring it upright facing right; …", with the small turn (LEVELLING_TURNS_DEG) the column was found under.
 */
export function describeOrientation(o: Orientation, turnDeg = 0): string {
  if (isUpright(o) && turnDeg === 0) return 'upright, facing right (as stored)';
  const parts: string[] = [];
  if (o.rotate !== 0) parts.push(o.rotate === 180 ? 'rotated by 180°' : `rotated by ${o.rotate}° clockwise`);
  if (o.mirror) parts.push('mirrored left-right');
  const turned = isUpright(o) ? [] : [`${parts.join(' and ')} to bring it upright facing right`];
  if (turnDeg !== 0)
    turned.push(
      `looked at turned by ${Math.abs(turnDeg)}° ${turnDeg > 0 ? 'clockwise' : 'anticlockwise'}, where the C2-C4 column lies as in the images the model learnt from (a flexed or extended head, or a film scanned askew)`,
    );
  return `the image was ${turned.join(', then ')}; landmarks are given in the stored image`;
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

/** A point of the stored image of w x h -> the upright image (the inverse of uprightToStored). */
export function storedToUpright(o: Orientation, w: number, h: number, x: number, y: number): { x: number; y: number } {
  const up = uprightSize(w, h, o);
  let rx: number;
  let ry: number;
  switch (o.rotate) {
    case 0:
      [rx, ry] = [x, y];
      break;
    case 90:
      [rx, ry] = [h - 1 - y, x];
      break;
    case 180:
      [rx, ry] = [w - 1 - x, h - 1 - y];
      break;
    case 270:
      [rx, ry] = [y, w - 1 - x];
      break;
  }
  return { x: o.mirror ? up.w - 1 - rx : rx, y: ry };
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

/**
 * Small turns tried when the column is not found, or found only weakly, as stored: a patient whose head was
 * flexed or extended, or a film scanned askew, puts the C2-C4 column outside the 1-20° from vertical the models
 * learnt from. Degrees clockwise on screen (y down); the first ones are the likeliest.
 */
export const LEVELLING_TURNS_DEG: readonly number[] = [15, -15, 30, -30];

/** Where a point of an image of w x h lands when the image is turned by `deg` (clockwise) about its centre. */
export function turnPoint(deg: number, w: number, h: number, x: number, y: number): { x: number; y: number } {
  const a = (deg * Math.PI) / 180;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const dx = x - cx;
  const dy = y - cy;
  return { x: cx + Math.cos(a) * dx - Math.sin(a) * dy, y: cy + Math.sin(a) * dx + Math.cos(a) * dy };
}

/** The image turned by `deg` (clockwise) about its centre, same size, bilinear; outside the image is 0. */
export function turnPixels(data: Float32Array, w: number, h: number, deg: number): Float32Array {
  const out = new Float32Array(w * h);
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- x0, x1 in 0..w-1 and y0, y1 in 0..h-1, checked */
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // The source of an output pixel: the output point turned back.
      const s = turnPoint(-deg, w, h, x, y);
      // A turn of 0 gives integer sources up to the last row and column: kept by the tolerance.
      if (s.x < -1e-9 || s.y < -1e-9 || s.x > w - 1 + 1e-9 || s.y > h - 1 + 1e-9) continue;
      const x0 = Math.min(w - 1, Math.max(0, Math.floor(s.x)));
      const y0 = Math.min(h - 1, Math.max(0, Math.floor(s.y)));
      const x1 = Math.min(w - 1, x0 + 1);
      const y1 = Math.min(h - 1, y0 + 1);
      const fx = Math.max(0, s.x - x0);
      const fy = Math.max(0, s.y - y0);
      const top = data[y0 * w + x0]! + fx * (data[y0 * w + x1]! - data[y0 * w + x0]!);
      const bottom = data[y1 * w + x0]! + fx * (data[y1 * w + x1]! - data[y1 * w + x0]!);
      out[y * w + x] = top + fy * (bottom - top);
    }
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return out;
}
