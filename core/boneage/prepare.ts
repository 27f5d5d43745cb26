/**
 * Input preparation of the hand-wrist models (bone age, radiograph kind), exactly as the training images
 * of `rsna100` were made: the whole displayed grey image squashed (aspect ratio ignored) to 100x100 by
 * nearest neighbour, source index floor((i + 0.5) * n / 100) per axis (PIL's Image.NEAREST, which
 * reproduces the stored rsna100 arrays exactly), intensity = the default display window applied linearly
 * to [0, 1] (8-bit pictures: value / 255). The per-image z-score is inside the ONNX graphs.
 *
 * Source indices follow Pillow's NEAREST resize exactly (ImagingScaleAffine): with a = n / size in double
 * precision, position = a / 2, then a is added once per output cell and the position truncated. This
 * accumulated sum differs from floor((i + 0.5) * n / size) where the exact value is an integer (the sum can
 * land just below it), and the rsna100 arrays were made this way: the squash of the sample radiographs equals
 * their training arrays byte for byte.
 */
import type { LinearWindow, PixelArray } from '../inference/intensity';
import { intensityTable } from '../inference/intensity';

export const HAND_INPUT_SIZE = 100;

export interface GreyImage {
  readonly width: number;
  readonly height: number;
  /** Row-major grey values: integers read through `window`, or floats already in [0, 1] (window null). */
  readonly data: PixelArray;
  readonly window: LinearWindow | null;
}

/** Source index of each output cell when n source cells are squashed into `size` (Pillow's NEAREST). */
export function nearestIndices(n: number, size: number): Int32Array {
  const a = n / size;
  const out = new Int32Array(size);
  let pos = a * 0.5;
  for (let i = 0; i < size; i++) {
    out[i] = Math.min(n - 1, Math.trunc(pos));
    pos += a;
  }
  return out;
}

/** The model input: size x size float32 in [0, 1], row-major (NCHW with N = C = 1). */
export function squashNearest(image: GreyImage, size = HAND_INPUT_SIZE): Float32Array {
  const { width, height, data, window } = image;
  if (!(width > 0 && height > 0) || data.length < width * height) {
    throw new Error(`the image is ${width}x${height} but holds ${data.length} pixels`);
  }
  const out = new Float32Array(size * size);
  let read: (v: number) => number;
  if (window === null) {
    read = (v) => (v < 0 ? 0 : v > 1 ? 1 : v);
  } else if (data instanceof Uint8Array) {
    const table = intensityTable(window, 256);
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- 256 entries for 8-bit pixels
    read = (v) => table[v]!;
  } else {
    // 10,000 samples: cheaper than a 65,536-entry table; the same float32 arithmetic as intensityTable.
    if (!(window.width > 0)) throw new Error(`window width must be positive, got ${window.width}`);
    const low = window.center - window.width / 2;
    const scale = 1 / window.width;
    read = (v) => {
      const u = (v - low) * scale;
      return u < 0 ? 0 : u > 1 ? 1 : u;
    };
  }
  const xs = nearestIndices(width, size);
  const ys = nearestIndices(height, size);
  // xs and ys hold `size` indices each, inside the width x height image whose size is checked above.
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- indices bounded as said above */
  for (let y = 0; y < size; y++) {
    const row = ys[y]! * width;
    for (let x = 0; x < size; x++) out[y * size + x] = read(data[row + xs[x]!]!);
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return out;
}
