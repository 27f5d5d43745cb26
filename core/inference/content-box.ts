/**
 * The part of an image that holds the radiograph: a film scanned on a larger bed, or an export padded to a fixed
 * size, sits in a frame of rows and columns of one grey value (black or white). Stage 1 sees the whole image
 * letterboxed to 128 px, so such a frame shrinks the skull and its column below the sizes the model learnt.
 */

/** Rows x0..x0 + width, y0..y0 + height (pixels) of an image. */
export interface ContentBox {
  readonly x0: number;
  readonly y0: number;
  readonly width: number;
  readonly height: number;
}

/** A row or column is part of the frame when its values (0..1 after the window) span at most this much. */
const UNIFORM_SPAN = 0.02;
/** The frame is left out only when it takes at least this share of the image's width or height. */
const MIN_FRAME_SHARE = 0.1;
/** ... and the content keeps at least this share of each side (a nearly blank image is not cropped). */
const MIN_CONTENT_SHARE = 0.25;

/**
 * The box inside a frame of uniform rows and columns (each within UNIFORM_SPAN after `unit`, which maps a stored
 * value to 0..1), or null when there is no such frame worth leaving out.
 */
export function contentBox(
  data: ArrayLike<number>,
  width: number,
  height: number,
  unit: (value: number) => number,
): ContentBox | null {
  const uniformRow = (y: number, x0: number, x1: number): boolean =>
    spanOf(data, y * width + x0, 1, x1 - x0) <= UNIFORM_SPAN;
  const uniformColumn = (x: number, y0: number, y1: number): boolean =>
    spanOf(data, y0 * width + x, width, y1 - y0) <= UNIFORM_SPAN;
  function spanOf(values: ArrayLike<number>, start: number, step: number, count: number): number {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0, k = start; i < count; i++, k += step) {
      const v = unit(values[k] as number);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (hi - lo > UNIFORM_SPAN) return hi - lo;
    }
    return hi - lo;
  }
  let top = 0;
  let bottom = height;
  let left = 0;
  let right = width;
  while (top < bottom && uniformRow(top, left, right)) top++;
  while (bottom > top && uniformRow(bottom - 1, left, right)) bottom--;
  while (left < right && uniformColumn(left, top, bottom)) left++;
  while (right > left && uniformColumn(right - 1, top, bottom)) right--;
  const w = right - left;
  const h = bottom - top;
  if (w < width * MIN_CONTENT_SHARE || h < height * MIN_CONTENT_SHARE) return null;
  if (width - w < width * MIN_FRAME_SHARE && height - h < height * MIN_FRAME_SHARE) return null;
  return { x0: left, y0: top, width: w, height: h };
}

/** The pixels of a box of an image, row by row (the same array type). */
export function cropPixels<T extends Uint8Array | Uint16Array | Float32Array>(
  data: T,
  width: number,
  box: ContentBox,
): T {
  const out = new (data.constructor as new (n: number) => T)(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    const from = (box.y0 + y) * width + box.x0;
    out.set(data.subarray(from, from + box.width), y * box.width);
  }
  return out;
}
