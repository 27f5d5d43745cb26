/** Model input intensity: the displayed grey image scaled to [0, 1], then z-score normalisation. */

export interface LinearWindow {
  readonly center: number;
  readonly width: number;
}

/**
 * Applies a window linearly: center - width / 2 -> 0, center + width / 2 -> 1, clamped.
 * For 8-bit pictures the window {center: 127.5, width: 255} gives exactly value / 255.
 */
export function windowToUnit(data: ArrayLike<number>, window: LinearWindow): Float32Array {
  if (!(window.width > 0)) throw new Error(`window width must be positive, got ${window.width}`);
  const out = new Float32Array(data.length);
  const low = window.center - window.width / 2;
  const scale = 1 / window.width;
  for (let i = 0; i < data.length; i++) {
    const v = (data[i]! - low) * scale;
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return out;
}

/** In place: subtract the mean, divide by the population standard deviation plus 1e-6. */
export function zscoreInPlace(tensor: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < tensor.length; i++) sum += tensor[i]!;
  const mean = sum / tensor.length;
  let sq = 0;
  for (let i = 0; i < tensor.length; i++) {
    const d = tensor[i]! - mean;
    sq += d * d;
  }
  const scale = 1 / (Math.sqrt(sq / tensor.length) + 1e-6);
  for (let i = 0; i < tensor.length; i++) tensor[i] = (tensor[i]! - mean) * scale;
  return tensor;
}
