/**
 * Stage-2 input: a region of interest sampled at a fixed physical scale around a centre (models/README.md).
 * Input pixel (u, v) samples the image at x = cx + (u - (W - 1) / 2) * sx, y = cy + (v - (H - 1) / 2) * sy,
 * bilinearly, a sample outside the image taking the nearest edge pixel (torch grid_sample, align_corners, border).
 * An optional rotation (test-time augmentation) turns the grid about its centre in physical space: the
 * offsets (u - (W - 1) / 2, v - (H - 1) / 2) are rotated by `rotationDeg` (clockwise on screen, y down)
 * before they are scaled by sx, sy.
 */
import type { PixelArray } from './intensity';

export interface RoiGrid {
  readonly cx: number;
  readonly cy: number;
  /** Input size. */
  readonly W: number;
  readonly H: number;
  /** Image pixels per input pixel along x and y (mmPerPixel / spacing; equal for square pixels). */
  readonly sx: number;
  readonly sy: number;
  /** Rotation of the grid about its centre, degrees (absent = 0: the README's axis-aligned crop). */
  readonly rotationDeg?: number;
}

export function roiToImage(g: RoiGrid, u: number, v: number): { x: number; y: number } {
  const du = u - (g.W - 1) / 2;
  const dv = v - (g.H - 1) / 2;
  if (!g.rotationDeg) return { x: g.cx + du * g.sx, y: g.cy + dv * g.sy };
  const a = (g.rotationDeg * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  return { x: g.cx + (c * du - s * dv) * g.sx, y: g.cy + (s * du + c * dv) * g.sy };
}

export function imageToRoi(g: RoiGrid, x: number, y: number): { u: number; v: number } {
  const du = (x - g.cx) / g.sx;
  const dv = (y - g.cy) / g.sy;
  if (!g.rotationDeg) return { u: du + (g.W - 1) / 2, v: dv + (g.H - 1) / 2 };
  const a = (g.rotationDeg * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  return { u: c * du + s * dv + (g.W - 1) / 2, v: -s * du + c * dv + (g.H - 1) / 2 };
}

/**
 * image[i], or table[image[i]] with an intensity table. A function of its own, not a closure made per sample: a new
 * process samples the first crops in V8's interpreter, where a closure per pixel cost (the cold `cvm analyze`, #14).
 */
function pixelValue(image: PixelArray, table: Float32Array | undefined, i: number): number {
  // Only called for pixels inside the image; an intensity table has one entry per pixel value.
  // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- see above
  return table ? table[image[i]!]! : image[i]!;
}

/**
 * Bilinear sample at (x, y) in pixel-centre coordinates, (x, y) moved onto the image first (so the edge repeats
 * outside it). Values are image[i], or table[image[i]] when an intensity table is given.
 */
export function sampleBilinear(
  image: PixelArray,
  w: number,
  h: number,
  x: number,
  y: number,
  table?: Float32Array,
): number {
  // Outside the image the nearest edge pixel repeats (torch's padding_mode "border"), not black: the networks
  // learnt crops that lie inside whole films, and a black band under a film that ends just below C4 moved C4's
  // lower points by 2-9 mm. Where a vertebra itself is cut off, the landmarks then fall outside the image and the
  // quality gate refuses them (core/inference/quality.ts).
  x = Math.min(Math.max(x, 0), w - 1);
  y = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  let value = 0;
  if (y0 >= 0 && y0 < h) {
    const row = y0 * w;
    if (x0 >= 0 && x0 < w) value += (1 - fx) * (1 - fy) * pixelValue(image, table, row + x0);
    if (x0 + 1 >= 0 && x0 + 1 < w) value += fx * (1 - fy) * pixelValue(image, table, row + x0 + 1);
  }
  if (y0 + 1 >= 0 && y0 + 1 < h) {
    const row = (y0 + 1) * w;
    if (x0 >= 0 && x0 < w) value += (1 - fx) * fy * pixelValue(image, table, row + x0);
    if (x0 + 1 >= 0 && x0 + 1 < w) value += fx * fy * pixelValue(image, table, row + x0 + 1);
  }
  return value;
}

export function sampleRoi(image: PixelArray, w: number, h: number, g: RoiGrid, table?: Float32Array): Float32Array {
  const out = new Float32Array(g.W * g.H);
  if (g.rotationDeg) {
    const a = (g.rotationDeg * Math.PI) / 180;
    const c = Math.cos(a);
    const s = Math.sin(a);
    for (let v = 0; v < g.H; v++) {
      const dv = v - (g.H - 1) / 2;
      for (let u = 0; u < g.W; u++) {
        const du = u - (g.W - 1) / 2;
        out[v * g.W + u] = sampleBilinear(
          image,
          w,
          h,
          g.cx + (c * du - s * dv) * g.sx,
          g.cy + (s * du + c * dv) * g.sy,
          table,
        );
      }
    }
    return out;
  }
  for (let v = 0; v < g.H; v++) {
    const y = g.cy + (v - (g.H - 1) / 2) * g.sy;
    for (let u = 0; u < g.W; u++) {
      out[v * g.W + u] = sampleBilinear(image, w, h, g.cx + (u - (g.W - 1) / 2) * g.sx, y, table);
    }
  }
  return out;
}
