/**
 * Landmarks + pixel spacing -> measurements of C2-C4, in mm (or px when the spacing is unknown).
 * Every measurement is a distance or a distance along a vertebra's own axes (its lower-border chord and the
 * normal towards its body), so head tilt, translation and image resolution do not change it.
 */
import {
  distance,
  imageToMm,
  projectOntoLine,
  signedDistanceToLine,
  type ImagePoint,
  type MmPoint,
  type PixelSpacingMm,
} from '../geometry/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../landmarks/index';
import { DEFAULT_THRESHOLDS } from './thresholds';
import type {
  BodyMeasurements,
  BorderConcavity,
  MeasureResult,
  ShapeClass,
  StagingError,
  StagingErrorCode,
  Thresholds,
} from './types';

/** A landmark in physical units: mm when the spacing is known, else image px. */
type Vec = MmPoint | ImagePoint;

const failure = (code: StagingErrorCode, message: string, landmarks: readonly LandmarkName[]): MeasureResult => ({
  ok: false,
  error: { code, message, landmarks } satisfies StagingError,
});

/** The error for a set with absent or non-finite landmarks (kept off the fast path). */
function incomplete(landmarks: LandmarkSet): MeasureResult {
  const missing = LANDMARK_NAMES.filter((n) => landmarks[n] === undefined || landmarks[n] === null);
  if (missing.length > 0) {
    return failure(
      'missing-landmark',
      `landmark${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing: all 13 are needed to stage`,
      missing,
    );
  }
  const notFinite = LANDMARK_NAMES.filter(
    (n) => !(Number.isFinite(landmarks[n]?.x) && Number.isFinite(landmarks[n]?.y)),
  );
  return failure(
    'not-finite',
    `landmark${notFinite.length > 1 ? 's' : ''} ${notFinite.join(', ')} not a finite position (NaN or infinite coordinates)`,
    notFinite,
  );
}

/** Border corner pairs and border ends that must not coincide. */
const DISTINCT_PAIRS: readonly (readonly [LandmarkName, LandmarkName])[] = [
  ['C2p', 'C2a'],
  ['C2p', 'C2m'],
  ['C2m', 'C2a'],
  ['C3up', 'C3ua'],
  ['C3lp', 'C3la'],
  ['C3up', 'C3lp'],
  ['C3ua', 'C3la'],
  ['C3lp', 'C3m'],
  ['C3m', 'C3la'],
  ['C4up', 'C4ua'],
  ['C4lp', 'C4la'],
  ['C4up', 'C4lp'],
  ['C4ua', 'C4la'],
  ['C4lp', 'C4m'],
  ['C4m', 'C4la'],
];

/** Posterior and anterior corner of each border, for the facing and inside-out checks. */
const BORDERS: readonly { name: string; posterior: LandmarkName; anterior: LandmarkName }[] = [
  { name: 'C2 lower border', posterior: 'C2p', anterior: 'C2a' },
  { name: 'C3 upper border', posterior: 'C3up', anterior: 'C3ua' },
  { name: 'C3 lower border', posterior: 'C3lp', anterior: 'C3la' },
  { name: 'C4 upper border', posterior: 'C4up', anterior: 'C4ua' },
  { name: 'C4 lower border', posterior: 'C4lp', anterior: 'C4la' },
];

/** Relative size below which two points count as coincident (of the extent of all landmarks). */
const COINCIDENT_FRACTION = 1e-6;

function spacingProblem(spacing: PixelSpacingMm | null): string | null {
  if (spacing === null) return null;
  const valid = (v: number) => Number.isFinite(v) && v > 0;
  return valid(spacing.rowMm) && valid(spacing.colMm)
    ? null
    : `pixel spacing must be two positive numbers of mm, got row ${spacing.rowMm} and column ${spacing.colMm}`;
}

/**
 * Measures C2-C4 from 13 landmarks. `spacing` null: lengths in px (square pixels assumed).
 * The shape class uses `thresholds` (stage() re-classifies with its own).
 */
export function measure(
  landmarks: LandmarkSet,
  spacing: PixelSpacingMm | null,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): MeasureResult {
  const placed = {} as Record<LandmarkName, NonNullable<LandmarkSet[LandmarkName]>>;
  for (const n of LANDMARK_NAMES) {
    const q = landmarks[n];
    if (q === undefined || q === null || !Number.isFinite(q.x) || !Number.isFinite(q.y)) return incomplete(landmarks);
    placed[n] = q;
  }
  const badSpacing = spacingProblem(spacing);
  if (badSpacing !== null) return failure('invalid-spacing', badSpacing, []);

  const p = {} as Record<LandmarkName, Vec>;
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (const n of LANDMARK_NAMES) {
    const v: Vec = spacing === null ? placed[n] : imageToMm(placed[n], spacing);
    p[n] = v;
    if (v.x < minX) minX = v.x;
    if (v.x > maxX) maxX = v.x;
    if (v.y < minY) minY = v.y;
    if (v.y > maxY) maxY = v.y;
  }

  const extent = Math.hypot(maxX - minX, maxY - minY);
  const epsilon = extent * COINCIDENT_FRACTION;
  for (const [a, b] of DISTINCT_PAIRS) {
    if (distance(p[a], p[b]) <= epsilon) {
      return failure('coincident-points', `landmarks ${a} and ${b} coincide: a border needs two distinct ends`, [a, b]);
    }
  }

  // The column's superior direction: from the middle of C4's lower border to the middle of C2's.
  const ux = (p.C2p.x + p.C2a.x - p.C4lp.x - p.C4la.x) / 2;
  const uy = (p.C2p.y + p.C2a.y - p.C4lp.y - p.C4la.y) / 2;
  if (Math.hypot(ux, uy) <= epsilon) {
    return failure(
      'inside-out',
      'the lower borders of C2 and C4 have the same middle: the direction of the spine cannot be found',
      ['C2p', 'C2a', 'C4lp', 'C4la'],
    );
  }
  // For each border, whether its posterior->anterior direction turns towards the head like a patient facing
  // right (image y down). All five must agree; the majority tells the facing.
  let rightVotes = 0;
  let leftVotes = 0;
  for (const b of BORDERS) {
    const turn = turnsRight(p, b, ux, uy);
    if (turn > 0) rightVotes++;
    else if (turn < 0) leftVotes++;
  }
  const facingRight = rightVotes >= 3;
  if (rightVotes !== BORDERS.length && leftVotes !== BORDERS.length) {
    const wrong = BORDERS.filter((b) =>
      facingRight ? !(turnsRight(p, b, ux, uy) > 0) : !(turnsRight(p, b, ux, uy) < 0),
    );
    const names = wrong.flatMap((b) => [b.posterior, b.anterior]);
    return failure(
      'inside-out',
      `${wrong.map((b) => b.name).join(', ')} drawn inside out: ${names.join(', ')} point the other way from the rest (anterior and posterior corners swapped?)`,
      names,
    );
  }
  const side = facingRight ? 1 : -1;

  const c2 = concavity(p.C2p, p.C2m, p.C2a, side);
  const c3 = concavity(p.C3lp, p.C3m, p.C3la, side);
  const c4 = concavity(p.C4lp, p.C4m, p.C4la, side);
  for (const [v, c] of [
    ['C2', c2],
    ['C3', c3],
    ['C4', c4],
  ] as const) {
    if (c.along <= 0 || c.along >= 1) {
      const names: LandmarkName[] = v === 'C2' ? ['C2p', 'C2m', 'C2a'] : [`${v}lp`, `${v}m`, `${v}la`];
      return failure(
        'deepest-point-outside-border',
        `${names[1]} lies beyond the corners of the ${v} lower border (${names[0]}, ${names[2]}): the deepest point must lie between them`,
        names,
      );
    }
  }

  for (const v of ['C3', 'C4'] as const) {
    const up = p[`${v}up`],
      ua = p[`${v}ua`],
      lp = p[`${v}lp`],
      la = p[`${v}la`];
    const upperMiddle = { x: (up.x + ua.x) / 2, y: (up.y + ua.y) / 2 } as Vec;
    if (heightAboveChord(upperMiddle, lp, la, side) <= 0) {
      return failure(
        'inside-out',
        `${v} drawn inside out: its upper border (${v}up, ${v}ua) lies below its lower border (${v}lp, ${v}la)`,
        [`${v}up`, `${v}ua`, `${v}lp`, `${v}la`],
      );
    }
  }
  // C3 must lie between C2 and C4 along the column.
  const c3mx = (p.C3up.x + p.C3ua.x + p.C3lp.x + p.C3la.x) / 4;
  const c3my = (p.C3up.y + p.C3ua.y + p.C3lp.y + p.C3la.y) / 4;
  const aboveC4 = (c3mx - (p.C4lp.x + p.C4la.x) / 2) * ux + (c3my - (p.C4lp.y + p.C4la.y) / 2) * uy;
  const belowC2 = ((p.C2p.x + p.C2a.x) / 2 - c3mx) * ux + ((p.C2p.y + p.C2a.y) / 2 - c3my) * uy;
  if (!(aboveC4 > 0 && belowC2 > 0)) {
    return failure('inside-out', 'C3 does not lie between C2 and C4 along the spine: the vertebrae are out of order', [
      'C3up',
      'C3ua',
      'C3lp',
      'C3la',
    ]);
  }

  const b3 = body(p.C3up, p.C3ua, p.C3lp, p.C3la, c3.concavity.chord, thresholds);
  const b4 = body(p.C4up, p.C4ua, p.C4lp, p.C4la, c4.concavity.chord, thresholds);
  return {
    ok: true,
    value: {
      unit: spacing === null ? 'px' : 'mm',
      spacing,
      facing: facingRight ? 'right' : 'left',
      C2: { concavity: c2.concavity },
      C3: { concavity: c3.concavity, body: b3 },
      C4: { concavity: c4.concavity, body: b4 },
    },
  };
}

/** Positive when the border's posterior->anterior direction turns towards the head (U) like a patient facing right. */
function turnsRight(p: Record<LandmarkName, Vec>, b: (typeof BORDERS)[number], ux: number, uy: number): number {
  return (p[b.anterior].y - p[b.posterior].y) * ux - (p[b.anterior].x - p[b.posterior].x) * uy;
}

/**
 * Signed distance of p from the chord posterior->anterior, positive towards the head. `side` is +1 for a patient
 * facing right, -1 facing left (image y down: the head lies to the left of posterior->anterior when facing right).
 */
function heightAboveChord(p: Vec, posterior: Vec, anterior: Vec, side: number): number {
  return -side * signedDistanceToLine(p, posterior, anterior);
}

function concavity(
  posterior: Vec,
  deepest: Vec,
  anterior: Vec,
  side: number,
): { concavity: BorderConcavity; along: number } {
  const chord = distance(posterior, anterior);
  const depth = heightAboveChord(deepest, posterior, anterior, side);
  return { concavity: { depth, chord, share: depth / chord }, along: projectOntoLine(deepest, posterior, anterior) };
}

function body(up: Vec, ua: Vec, lp: Vec, la: Vec, chord: number, thresholds: Thresholds): BodyMeasurements {
  const anteriorHeight = distance(ua, la);
  const posteriorHeight = distance(up, lp);
  const superiorWidth = distance(up, ua);
  const width = Math.hypot((ua.x + la.x - up.x - lp.x) / 2, (ua.y + la.y - up.y - lp.y) / 2);
  const height = Math.hypot((up.x + ua.x - lp.x - la.x) / 2, (up.y + ua.y - lp.y - la.y) / 2);
  const ratio = width / height;
  const heightRatio = anteriorHeight / posteriorHeight;
  const widthRatio = superiorWidth / chord;
  const superiorWidthToPosteriorHeight = superiorWidth / posteriorHeight;
  return {
    anteriorHeight,
    posteriorHeight,
    superiorWidth,
    inferiorWidth: chord,
    width,
    height,
    ratio,
    heightRatio,
    widthRatio,
    superiorWidthToPosteriorHeight,
    shape: classifyShape({ ratio, heightRatio, widthRatio, superiorWidthToPosteriorHeight }, thresholds),
  };
}

type ShapeInputs = Pick<BodyMeasurements, 'ratio' | 'heightRatio' | 'widthRatio' | 'superiorWidthToPosteriorHeight'>;

/** The width/height ratio the thresholds classify by. */
export function shapeRatio(b: ShapeInputs, thresholds: Thresholds): number {
  return thresholds.shape.ratio === 'midline' ? b.ratio : b.superiorWidthToPosteriorHeight;
}

export function isTrapezoid(b: ShapeInputs, thresholds: Thresholds): boolean {
  const { trapezoidMaxHeightRatio, trapezoidMaxWidthRatio } = thresholds.shape;
  return (
    b.heightRatio < trapezoidMaxHeightRatio ||
    (trapezoidMaxWidthRatio !== null && b.widthRatio < trapezoidMaxWidthRatio)
  );
}

/** The shape class of a body by the thresholds: trapezoid first, else by the width/height ratio. */
export function classifyShape(b: ShapeInputs, thresholds: Thresholds): ShapeClass {
  if (isTrapezoid(b, thresholds)) return 'trapezoid';
  const r = shapeRatio(b, thresholds);
  if (r < thresholds.shape.squareMin) return 'rectangular-vertical';
  return r > thresholds.shape.squareMax ? 'rectangular-horizontal' : 'square';
}
