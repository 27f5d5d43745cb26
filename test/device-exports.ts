/**
 * What a cephalostat's processing or an export does to an image, written for the tests independently of the
 * training code (models/training/train.py, boneage/train_kind.py): edge enhancement by unsharp masking, clipped
 * to the range. Grey values row-major, w x h.
 */

/** One pass of a running-mean blur of width 2r+1 along rows (step 1) or columns (step w), edges clamped. */
function boxPass(src: Float32Array, w: number, h: number, r: number, alongRows: boolean): Float32Array {
  const out = new Float32Array(src.length);
  const [lines, len, step, lineStep] = alongRows ? [h, w, 1, w] : [w, h, w, 1];
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    const at = (i: number): number => src[base + Math.min(len - 1, Math.max(0, i)) * step]!;
    let sum = 0;
    for (let i = -r; i <= r; i++) sum += at(i);
    for (let i = 0; i < len; i++) {
      out[base + i * step] = sum / (2 * r + 1);
      sum += at(i + r + 1) - at(i - r);
    }
  }
  return out;
}

/**
 * Unsharp masking: the image plus `gain` times its difference from a Gaussian blur of standard deviation about
 * `sigmaPx` (three box blurs), rounded and clipped to 0..`top`.
 */
export function edgeEnhanced(
  data: ArrayLike<number>,
  w: number,
  h: number,
  sigmaPx: number,
  gain: number,
  top: number,
): Uint16Array {
  // Three box blurs of radius r have the variance r (r + 1) of a Gaussian.
  const r = Math.round((Math.sqrt(4 * sigmaPx * sigmaPx + 1) - 1) / 2);
  let smooth: Float32Array = Float32Array.from(data);
  for (let pass = 0; pass < 3; pass++) smooth = boxPass(boxPass(smooth, w, h, r, true), w, h, r, false);
  return Uint16Array.from(data, (v, i) => Math.min(top, Math.max(0, Math.round(v + gain * (v - smooth[i]!)))));
}
