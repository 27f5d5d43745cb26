import { describe, expect, it } from 'vitest';
import { heatmapPeak, heatmapPeaks, heatmapToInput, parabolaOffset } from '../../core/inference/index';

/** A W x H heatmap that is an exact paraboloid with its vertex at (u0, v0): the refinement must find it. */
function paraboloid(W: number, H: number, u0: number, v0: number): Float32Array {
  const out = new Float32Array(W * H);
  for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) out[v * W + u] = 100 - (u - u0) ** 2 - 2 * (v - v0) ** 2;
  return out;
}

describe('heatmap peaks', () => {
  it.each([
    [10.3, 7.8],
    [10, 8],
    [4.5001, 3.4999],
    [1.2, 13.6],
  ])('finds the vertex (%d, %d) of a paraboloid heatmap to sub-pixel accuracy', (u0, v0) => {
    const p = heatmapPeak(paraboloid(20, 16, u0, v0), 20, 16);
    expect(p.u).toBeCloseTo(u0, 4);
    expect(p.v).toBeCloseTo(v0, 4);
  });

  it('gives the value at the integer peak as the confidence', () => {
    const p = heatmapPeak(paraboloid(20, 16, 10.3, 7.8), 20, 16);
    expect(p.value).toBeCloseTo(100 - 0.3 ** 2 - 2 * 0.2 ** 2, 4);
  });

  it('computes the parabola vertex offset through three samples', () => {
    expect(parabolaOffset(1, 2, 1)).toBeCloseTo(0, 12);
    expect(parabolaOffset(0, 4, 3)).toBeCloseTo((0.5 * (0 - 3)) / (0 - 8 + 3), 12); // 0.3
    expect(parabolaOffset(2, 2, 2)).toBe(0); // flat: no vertex
  });

  it('clamps the offset to half a pixel', () => {
    expect(parabolaOffset(0, 1, 1)).toBe(0.5);
    expect(parabolaOffset(1, 1, 0)).toBe(-0.5);
  });

  it('does not refine a peak on the heatmap border', () => {
    const h = new Float32Array(5 * 5);
    h[0] = 1;
    h[1] = 0.9;
    expect(heatmapPeak(h, 5, 5)).toEqual({ u: 0, v: 0, value: 1 });
  });

  it('reads one peak per channel of a multi-channel output', () => {
    const a = paraboloid(8, 6, 2.25, 3);
    const b = paraboloid(8, 6, 5, 1.5);
    const both = new Float32Array(a.length * 2);
    both.set(a, 0);
    both.set(b, a.length);
    const [pa, pb] = heatmapPeaks(both, 2, 8, 6);
    expect(pa!.u).toBeCloseTo(2.25, 6);
    expect(pb!.v).toBeCloseTo(1.5, 6);
  });

  it('refuses an output of the wrong size', () => {
    expect(() => heatmapPeaks(new Float32Array(10), 13, 4, 4)).toThrow(/expected 13x4x4/);
  });

  it('maps a heatmap coordinate to the input with the pixel-centre convention', () => {
    expect(heatmapToInput(3, 1)).toBe(3);
    expect(heatmapToInput(0, 2)).toBe(0.5);
    expect(heatmapToInput(3, 4)).toBe(13.5);
  });
});
