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
  return Float32Array.from(data, (v) => unit(v));
}

/**
 * The window as a lookup table for integer pixels (256 or 65536 entries): the resize and the crop read
 * table[pixel] directly, so a 2000x2400 image is never copied into floats.
 */
export function intensityTable(window: LinearWindow, size: 256 | 65536): Float32Array {
  const unit = unitOf(window);
  const table = new Float32Array(size);
  for (let v = 0; v < size; v++) table[v] = unit(v);
  return table;
}

/** In place: subtract the mean, divide by the population standard deviation plus 1e-6. */
export function zscoreInPlace(tensor: Float32Array): Float32Array {
  let sum = 0;
  for (const v of tensor) sum += v;
  const mean = sum / tensor.length;
  let sq = 0;
  for (const v of tensor) sq += (v - mean) * (v - mean);
  const scale = 1 / (Math.sqrt(sq / tensor.length) + 1e-6);
  let i = 0;
  for (const v of tensor) tensor[i++] = (v - mean) * scale;
  return tensor;
}
