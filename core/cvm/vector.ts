/** Checked element access for the staging engine's fixed-size vectors (features, weights, coordinates). */

/** `a[i]`, or a RangeError naming `what` when the vector is shorter than the model expects. */
export function el(a: ArrayLike<number>, i: number, what = 'vector'): number {
  const v = a[i];
  if (v === undefined) throw new RangeError(`${what} has no element ${i} (length ${a.length})`);
  return v;
}

/** `rows[i]`, or a RangeError naming `what`. */
export function row<T>(rows: readonly T[], i: number, what = 'matrix'): T {
  const r = rows[i];
  if (r === undefined) throw new RangeError(`${what} has no row ${i} (${rows.length} rows)`);
  return r;
}
