/**
 * Builds a landmark set with chosen measurements, for table-driven tests, benchmarks and demonstrations.
 * Each vertebra is drawn in a patient frame (mm, x anterior, y up): lower border flat, anterior border upright,
 * upper border from the posterior height to the anterior height; then rotated, mirrored, scaled to pixels and
 * moved into the image. Measured back, it gives the numbers asked for (up to floating-point rounding).
 * `rotate` turns single points, for the rotation-invariance tests.
 */
import { imagePoint, type Point } from '../../core/geometry/index';
import type { LandmarkName, LandmarkSet } from '../../core/landmarks/index';

export interface SyntheticBody {
  /** width / height (midline definition). */
  readonly ratio: number;
  /** anterior height / posterior height. */
  readonly heightRatio: number;
  /** Midline height in mm. */
  readonly height: number;
}

export interface SyntheticSpec {
  /** Concavity depth of the C2, C3 and C4 lower borders as a share of each chord (0.1 = 10%; negative bulges). */
  readonly concavity: readonly [number, number, number];
  readonly C3: SyntheticBody;
  readonly C4: SyntheticBody;
  /** Chord of the C2 lower border in mm (default 15). */
  readonly c2Chord?: number;
  /** Where along each lower chord the deepest point lies, 0 posterior to 1 anterior (default 0.5). */
  readonly deepestAt?: number;
  /** Gap between vertebrae in mm (default 3). */
  readonly discMm?: number;
  /** Pixel size in mm (default 0.1, square). */
  readonly mmPerPx?: number;
  /** Head tilt: rotation of the whole set, degrees, counter-clockwise as seen on screen (default 0). */
  readonly rotationDeg?: number;
  readonly facing?: 'right' | 'left';
  /** Image position of the C4 lower posterior corner in px (default 800, 1900). */
  readonly origin?: { readonly x: number; readonly y: number };
}

interface P {
  x: number;
  y: number;
}

export function syntheticLandmarks(spec: SyntheticSpec): LandmarkSet {
  const disc = spec.discMm ?? 3;
  const at = spec.deepestAt ?? 0.5;
  const frame: Partial<Record<LandmarkName, P>> = {};

  let base = 0;
  for (const [v, body, share] of [
    ['C4', spec.C4, spec.concavity[2]],
    ['C3', spec.C3, spec.concavity[1]],
  ] as const) {
    const posteriorHeight = (2 * body.height) / (1 + body.heightRatio);
    const anteriorHeight = body.heightRatio * posteriorHeight;
    // The midline width joins the middles of the anterior and posterior borders, which sit at different heights.
    const width = Math.sqrt((body.ratio * body.height) ** 2 - ((posteriorHeight - anteriorHeight) / 2) ** 2);
    frame[`${v}lp`] = { x: 0, y: base };
    frame[`${v}la`] = { x: width, y: base };
    frame[`${v}m`] = { x: at * width, y: base + share * width };
    frame[`${v}up`] = { x: 0, y: base + posteriorHeight };
    frame[`${v}ua`] = { x: width, y: base + anteriorHeight };
    base += Math.max(posteriorHeight, anteriorHeight) + disc;
  }
  const c2Chord = spec.c2Chord ?? 15;
  frame.C2p = { x: 0, y: base };
  frame.C2a = { x: c2Chord, y: base };
  frame.C2m = { x: at * c2Chord, y: base + spec.concavity[0] * c2Chord };

  const angle = ((spec.rotationDeg ?? 0) * Math.PI) / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const mirror = spec.facing === 'left' ? -1 : 1;
  const px = spec.mmPerPx ?? 0.1;
  const origin = spec.origin ?? { x: 800, y: 1900 };
  const out: LandmarkSet = {};
  for (const [name, p] of Object.entries(frame) as [LandmarkName, P][]) {
    // Rotate in the y-up frame, mirror, then flip y for the image (y down).
    const rx = cos * p.x - sin * p.y;
    const ry = sin * p.x + cos * p.y;
    out[name] = imagePoint(origin.x + (mirror * rx) / px, origin.y - ry / px);
  }
  return out;
}

/**
 * Rotates p by `angle` radians about `centre` (positive turns x towards y; in image coordinates, clockwise on screen).
 */
export function rotate<P extends Point>(p: P, angle: number, centre: P): P {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const dx = p.x - centre.x;
  const dy = p.y - centre.y;
  return { x: centre.x + c * dx - s * dy, y: centre.y + s * dx + c * dy } as P;
}
