/**
 * Stage-1 input: the whole image area-resized into the model input with its aspect kept ("letterbox-area"
 * in models/README.md), and the mapping between input pixels and image pixels (pixel-centre convention).
 */
import type { PixelArray } from './intensity';

export interface Letterbox {
  /** Image size. */
  readonly w: number;
  readonly h: number;
  /** Model input size. */
  readonly W: number;
  readonly H: number;
  /** Size of the resized image inside the input, and its offset. */
  readonly rw: number;
  readonly rh: number;
  readonly ox: number;
  readonly oy: number;
}

/** Python's round(): halves go to the even neighbour, as the training code rounds. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function letterboxParams(w: number, h: number, W: number, H: number): Letterbox {
  const k = Math.min(W / w, H / h);
  const rw = Math.max(1, roundHalfEven(w * k));
  const rh = Math.max(1, roundHalfEven(h * k));
  return { w, h, W, H, rw, rh, ox: Math.floor((W - rw) / 2), oy: Math.floor((H - rh) / 2) };
}

/** Input pixel (u, v) -> image pixel. */
export function letterboxToImage(lb: Letterbox, u: number, v: number): { x: number; y: number } {
  return { x: ((u - lb.ox + 0.5) * lb.w) / lb.rw - 0.5, y: ((v - lb.oy + 0.5) * lb.h) / lb.rh - 0.5 };
}

/** Source index ranges averaged by each output cell, as torch's adaptive_avg_pool2d chooses them. */
export function adaptivePoolRanges(n: number, m: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(m);
  const end = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    start[i] = Math.floor((i * n) / m);
    end[i] = Math.ceil(((i + 1) * n) / m); // exclusive
  }
  return { start, end };
}

/**
 * Area-resizes a w x h image (row-major) into a W x H tensor, zero padded. Values are image[i], or
 * table[image[i]] when an intensity table is given. Separable: a mean over a rectangle equals the mean
 * over its rows of the row means.
 */
export function letterboxArea(image: PixelArray, lb: Letterbox, table?: Float32Array): Float32Array {
  const { w, h, W, H, rw, rh, ox, oy } = lb;
  if (image.length !== w * h) throw new Error(`letterboxArea: ${image.length} values for a ${w}x${h} image`);
  const cols = adaptivePoolRanges(w, rw);
  const rows = adaptivePoolRanges(h, rh);
  // A per-pixel kernel: the size is checked above, pooling ranges lie inside [0, w) and [0, h) (rw and rh
  // of them), and an intensity table has one entry per pixel value.
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- indices bounded as said above */
  // Pass 1: pool along x, every source row -> h x rw.
  const pooledX = new Float64Array(h * rw);
  for (let y = 0; y < h; y++) {
    const rowStart = y * w;
    for (let i = 0; i < rw; i++) {
      const a = rowStart + cols.start[i]!;
      const b = rowStart + cols.end[i]!;
      let sum = 0;
      // Two loops rather than one with a branch inside: this runs over every pixel of the image.
      if (table) for (let x = a; x < b; x++) sum += table[image[x]!]!;
      else for (let x = a; x < b; x++) sum += image[x]!;
      pooledX[y * rw + i] = sum / (b - a);
    }
  }
  // Pass 2: pool along y into the padded tensor.
  const out = new Float32Array(W * H);
  for (let j = 0; j < rh; j++) {
    const a = rows.start[j]!;
    const b = rows.end[j]!;
    const outRow = (j + oy) * W + ox;
    for (let i = 0; i < rw; i++) {
      let sum = 0;
      for (let y = a; y < b; y++) sum += pooledX[y * rw + i]!;
      out[outRow + i] = sum / (b - a);
    }
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return out;
}
