/**
 * The scale-free measurements the staging model reads: one function, used by the fit script, the CLI, main and
 * the renderer alike (so the fitted parameters and the app can never disagree about what a feature is).
 *
 * Input: the 13 landmarks as 26 numbers (x, y in LANDMARK_NAMES order) in a frame with square units (mm when the
 * pixel spacing is known, image px otherwise) and the facing found by measure(). Every feature is a ratio of two
 * lengths or a depth over a length, so translation, rotation, mirroring and scale (hence the pixel spacing) do
 * not change it. Definitions match measure(): the same chord, heights, midline width and height.
 */
import type { PixelSpacingMm } from '../geometry/index';
import { LANDMARK_NAMES, type LandmarkSet } from '../landmarks/index';

export interface StagingFeature {
  /** Stable id (the parameter file lists these, in this order). */
  readonly id: string;
  /** What it is, in words. */
  readonly label: string;
  /** Short plain-language name for the panel. */
  readonly short: string;
}

export const STAGING_FEATURES: readonly StagingFeature[] = [
  { id: 'C2.concavity', label: 'C2 lower-border concavity: depth below the chord / chord', short: 'C2 concavity' },
  { id: 'C3.concavity', label: 'C3 lower-border concavity: depth below the chord / chord', short: 'C3 concavity' },
  { id: 'C4.concavity', label: 'C4 lower-border concavity: depth below the chord / chord', short: 'C4 concavity' },
  {
    id: 'C3.logHeightRatio',
    label: 'C3 log(anterior height / posterior height)',
    short: 'C3 taper (anterior/posterior height)',
  },
  { id: 'C3.logWidthToHeight', label: 'C3 log(width / height through the midlines)', short: 'C3 width/height' },
  {
    id: 'C3.logChordToAnteriorHeight',
    label: 'C3 log(lower-border chord / anterior height)',
    short: 'C3 lower border/anterior height',
  },
  {
    id: 'C3.logUpperToLowerWidth',
    label: 'C3 log(upper-border width / lower-border chord)',
    short: 'C3 upper/lower border',
  },
  {
    id: 'C4.logHeightRatio',
    label: 'C4 log(anterior height / posterior height)',
    short: 'C4 taper (anterior/posterior height)',
  },
  { id: 'C4.logWidthToHeight', label: 'C4 log(width / height through the midlines)', short: 'C4 width/height' },
  {
    id: 'C4.logChordToAnteriorHeight',
    label: 'C4 log(lower-border chord / anterior height)',
    short: 'C4 lower border/anterior height',
  },
  {
    id: 'C4.logUpperToLowerWidth',
    label: 'C4 log(upper-border width / lower-border chord)',
    short: 'C4 upper/lower border',
  },
];

export const FEATURE_COUNT = STAGING_FEATURES.length;

// Indices into LANDMARK_NAMES: C2p C2m C2a C3up C3lp C3m C3la C3ua C4up C4lp C4m C4la C4ua.
const C2P = 0,
  C2M = 1,
  C2A = 2;
const C3UP = 3,
  C3LP = 4,
  C3M = 5,
  C3LA = 6,
  C3UA = 7;
const C4UP = 8,
  C4LP = 9,
  C4M = 10,
  C4LA = 11,
  C4UA = 12;

// xy holds the 26 coordinates of the 13 landmarks (physicalCoordinates, or the model's scratch array), and every
// index below is one of the 13 landmark constants above: these reads cannot fall outside it.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- landmark index < 13 in a 26-value array */
const X = (xy: ArrayLike<number>, i: number): number => xy[2 * i]!;
const Y = (xy: ArrayLike<number>, i: number): number => xy[2 * i + 1]!;
/* eslint-enable @typescript-eslint/no-non-null-assertion */

/** Depth of the deepest point towards the vertebra's body, as a share of the chord (measure()'s `share`). */
function concavityShare(xy: ArrayLike<number>, p: number, m: number, a: number, side: number): number {
  const px = X(xy, p),
    py = Y(xy, p);
  const dx = X(xy, a) - px,
    dy = Y(xy, a) - py;
  const cross = dx * (Y(xy, m) - py) - dy * (X(xy, m) - px);
  return (-side * cross) / (dx * dx + dy * dy);
}

const len = (xy: ArrayLike<number>, i: number, j: number): number =>
  Math.hypot(X(xy, i) - X(xy, j), Y(xy, i) - Y(xy, j));

function bodyFeatures(
  xy: ArrayLike<number>,
  up: number,
  ua: number,
  lp: number,
  la: number,
  out: Float64Array,
  at: number,
): void {
  const anteriorHeight = len(xy, ua, la);
  const posteriorHeight = len(xy, up, lp);
  const superiorWidth = len(xy, up, ua);
  const chord = len(xy, lp, la);
  const width =
    Math.hypot(X(xy, ua) + X(xy, la) - X(xy, up) - X(xy, lp), Y(xy, ua) + Y(xy, la) - Y(xy, up) - Y(xy, lp)) / 2;
  const height =
    Math.hypot(X(xy, up) + X(xy, ua) - X(xy, lp) - X(xy, la), Y(xy, up) + Y(xy, ua) - Y(xy, lp) - Y(xy, la)) / 2;
  out[at] = Math.log(anteriorHeight / posteriorHeight);
  out[at + 1] = Math.log(width / height);
  out[at + 2] = Math.log(chord / anteriorHeight);
  out[at + 3] = Math.log(superiorWidth / chord);
}

/**
 * Writes the FEATURE_COUNT features of one spine into `out` (in STAGING_FEATURES order).
 * `xy`: 26 coordinates in LANDMARK_NAMES order, square units; `side`: +1 patient facing right, -1 facing left.
 * Degenerate geometry gives non-finite values (callers validate with measure() first).
 */
export function computeStagingFeatures(xy: ArrayLike<number>, side: number, out: Float64Array): Float64Array {
  out[0] = concavityShare(xy, C2P, C2M, C2A, side);
  out[1] = concavityShare(xy, C3LP, C3M, C3LA, side);
  out[2] = concavityShare(xy, C4LP, C4M, C4LA, side);
  bodyFeatures(xy, C3UP, C3UA, C3LP, C3LA, out, 3);
  bodyFeatures(xy, C4UP, C4UA, C4LP, C4LA, out, 7);
  return out;
}

/**
 * The 13 landmarks as 26 numbers in LANDMARK_NAMES order: mm when the spacing is known (non-square pixels honoured),
 * else px.
 */
export function physicalCoordinates(
  landmarks: LandmarkSet,
  spacing: PixelSpacingMm | null,
  out = new Float64Array(2 * LANDMARK_NAMES.length),
): Float64Array {
  for (const [i, name] of LANDMARK_NAMES.entries()) {
    const p = landmarks[name];
    if (!p) throw new RangeError(`landmark ${name} is missing (measure() reports this first)`);
    out[2 * i] = spacing === null ? p.x : p.x * spacing.colMm;
    out[2 * i + 1] = spacing === null ? p.y : p.y * spacing.rowMm;
  }
  return out;
}
