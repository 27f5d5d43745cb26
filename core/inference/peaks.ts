/** Heatmap peaks: integer argmax, then a parabola through the peak and its two neighbours per axis. */

export interface HeatmapPeak {
  /** Sub-pixel position in heatmap pixels (pixel-centre convention). */
  readonly u: number;
  readonly v: number;
  /** The heatmap value at the integer peak: the landmark's confidence. */
  readonly value: number;
}

/** Vertex offset of the parabola through (-1, a), (0, b), (1, c), clamped to ±0.5; 0 when flat. */
export function parabolaOffset(a: number, b: number, c: number): number {
  const den = a - 2 * b + c;
  if (den === 0) return 0;
  const offset = (0.5 * (a - c)) / den;
  return Math.max(-0.5, Math.min(0.5, offset));
}

/** Peak of one W x H heatmap stored row-major at `offset` in `data`. Ties go to the first in row order. */
export function heatmapPeak(data: Float32Array, W: number, H: number, offset = 0): HeatmapPeak {
  if (offset < 0 || offset + W * H > data.length || W * H < 1)
    throw new RangeError(`heatmap of ${W}x${H} at ${offset} outside ${data.length} values`);
  // Every index below lies in [offset, offset + W * H), checked above.
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- index inside the heatmap, checked above */
  let best = offset;
  let bestValue = data[offset]!;
  const end = offset + W * H;
  for (let i = offset + 1; i < end; i++) {
    if (data[i]! > bestValue) {
      bestValue = data[i]!;
      best = i;
    }
  }
  const index = best - offset;
  const v = Math.floor(index / W);
  const u = index - v * W;
  const at = (uu: number, vv: number): number => data[offset + vv * W + uu]!;
  const du = u > 0 && u < W - 1 ? parabolaOffset(at(u - 1, v), bestValue, at(u + 1, v)) : 0;
  const dv = v > 0 && v < H - 1 ? parabolaOffset(at(u, v - 1), bestValue, at(u, v + 1)) : 0;
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return { u: u + du, v: v + dv, value: bestValue };
}

/** One peak per channel of an [1, C, H, W] output. */
export function heatmapPeaks(data: Float32Array, channels: number, W: number, H: number): HeatmapPeak[] {
  if (data.length !== channels * W * H) {
    throw new Error(`heatmaps: ${data.length} values, expected ${channels}x${H}x${W}`);
  }
  return Array.from({ length: channels }, (_, c) => heatmapPeak(data, W, H, c * W * H));
}

/**
 * A heatmap pixel -> model input pixel for an output with the given stride, centre convention
 * (stride 1 is the identity).
 */
export function heatmapToInput(coord: number, stride: number): number {
  return (coord + 0.5) * stride - 0.5;
}
