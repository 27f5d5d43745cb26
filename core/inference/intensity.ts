/** Model input intensity: the displayed grey image scaled to [0, 1], then z-score normalisation. */

export interface LinearWindow {
  readonly center: number;
  readonly width: number;
}

/** Grey pixels as the pipeline reads them: integers through an intensity table, or floats already in [0, 1]. */
export type PixelArray = Float32Array | Uint16Array | Uint8Array;

export function unitOf(window: LinearWindow): (value: number) => number {
  if (!(window.width > 0)) throw new Error(`window width must be positive, got ${window.width}`);
  const low = window.center - window.width / 2;
  const scale = 1 / window.width;
  return (value) => {
    const v = (value - low) * scale;
    return v < 0 ? 0 : v > 1 ? 1 : v;
  };
}

/**
 * Applies a window linearly: center - width / 2 -> 0, center + width / 2 -> 1, clamped.
 * For 8-bit pictures the window {center: 127.5, width: 255} gives exactly value / 255.
 */
export function windowToUnit(data: ArrayLike<number>, window: LinearWindow): Float32Array {
  const unit = unitOf(window);
  // An indexed loop into a preallocated array: Float32Array.from with a mapping function took 25 s and as much
  // garbage collection for a 99-megapixel scan (a film digitised at 0.02 mm/px) in the inference worker.
  const out = new Float32Array(data.length);
  /* eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- i runs over 0..length-1 */
  for (let i = 0; i < out.length; i++) out[i] = unit(data[i]!);
  return out;
}

/**
 * The window as a lookup table for integer pixels (256 or 65536 entries): the resize and the crop read
 * table[pixel] directly, so a 2000x2400 image is never copied into floats.
 */
export function intensityTable(window: LinearWindow, size: 256 | 65536): Float32Array {
  if (!(window.width > 0)) throw new Error(`window width must be positive, got ${window.width}`);
  // unitOf's mapping written out: 65,536 calls of its closure ran in V8's interpreter in a new process.
  const low = window.center - window.width / 2;
  const scale = 1 / window.width;
  const table = new Float32Array(size);
  for (let v = 0; v < size; v++) {
    const unit = (v - low) * scale;
    table[v] = unit < 0 ? 0 : unit > 1 ? 1 : unit;
  }
  return table;
}

/** In place: subtract the mean, divide by the population standard deviation plus 1e-6. */
export function zscoreInPlace(tensor: Float32Array): Float32Array {
  // Indexed loops, not for-of: a new process runs these in V8's interpreter, where the iterator protocol made them
  // two to three times slower (the cold `cvm analyze`, #14); the sums are taken in the same order.
  const n = tensor.length;
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- i runs over 0..n-1 */
  let sum = 0;
  for (let i = 0; i < n; i++) sum += tensor[i]!;
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = tensor[i]! - mean;
    sq += d * d;
  }
  const scale = 1 / (Math.sqrt(sq / n) + 1e-6);
  for (let i = 0; i < n; i++) tensor[i] = (tensor[i]! - mean) * scale;
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return tensor;
}
