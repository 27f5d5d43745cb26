/**
 * Is this landmark configuration anatomically possible? Geometric checks on C2-C4 that need no model:
 * vertebrae in their order along the spine, bodies that do not overlap or cross, quadrilaterals that are
 * not collapsed or twisted, deepest points on their border. Scale-free (ratios of the landmarks' own
 * distances), so it works with or without a pixel spacing. Pure and fast: the renderer calls it on every
 * mouse move of a drag to colour the offending handles, and the approval rules call it before approving.
 *
 * The limits were set on 774 real spines (720 of cvm900 and the 54 of cvm13, see docs/workstation.md): no
 * real spine is "implausible", and at most a few are "check".
 */
import type { PixelSpacingMm } from '../geometry/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../landmarks/index';

export type PlausibilityCode =
  'incomplete' | 'crossing' | 'twisted' | 'collapsed' | 'overlap' | 'order' | 'deepest-off-border' | 'proportions';

export interface PlausibilityProblem {
  readonly code: PlausibilityCode;
  /** 'implausible': approval is refused; 'check': approval needs an explicit confirmation. */
  readonly severity: 'implausible' | 'check';
  /** One sentence for the user, naming the vertebrae (never an internal id). */
  readonly message: string;
  readonly landmarks: readonly LandmarkName[];
}

export type PlausibilityVerdict = 'ok' | 'check' | 'implausible';

export interface Plausibility {
  readonly verdict: PlausibilityVerdict;
  /** Most serious first. */
  readonly problems: readonly PlausibilityProblem[];
  /** Every landmark named by a problem, for colouring the handles. */
  readonly landmarks: readonly LandmarkName[];
}

/** Limits (dimensionless). See the header: measured on real spines, with a wide margin. */
export const PLAUSIBILITY_LIMITS = {
  /** A body height (anterior or posterior) below this share of the body's width: collapsed. */
  collapsedHeightShare: 0.12,
  /** ...below this: unusual enough to check. */
  checkHeightShare: 0.3,
  /**
   * Overlap of the C3 and C4 bodies, as a share of the smaller body's area: implausible above, check above the second.
   */
  overlapShare: 0.08,
  checkOverlapShare: 0.02,
  /**
   * Deepest point: its projection onto its chord must fall within this margin outside the corners (share of the
   * chord)...
   */
  deepestAlongMargin: 0.15,
  /** ...and lie no farther from the chord than this share of the chord. */
  deepestOffChord: 0.45,
  /** Widths of C3 and C4 (and the C2 border) may differ by at most this factor. */
  widthFactor: 2.2,
  checkWidthFactor: 1.6,
} as const;

interface V {
  x: number;
  y: number;
}

const sub = (a: V, b: V): V => ({ x: a.x - b.x, y: a.y - b.y });
const cross = (a: V, b: V): number => a.x * b.y - a.y * b.x;
const dot = (a: V, b: V): number => a.x * b.x + a.y * b.y;
const len = (a: V): number => Math.hypot(a.x, a.y);
const mid = (a: V, b: V): V => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });

/** Proper intersection of segments ab and cd (touching ends do not count). */
export function segmentsCross(a: V, b: V, c: V, d: V): boolean {
  const d1 = cross(sub(b, a), sub(c, a));
  const d2 = cross(sub(b, a), sub(d, a));
  const d3 = cross(sub(d, c), sub(a, c));
  const d4 = cross(sub(d, c), sub(b, c));
  return d1 * d2 < 0 && d3 * d4 < 0;
}

/** Each vertex with the next one, the last with the first: the polygon's edges. */
function edges(poly: readonly V[]): [V, V][] {
  const [first] = poly;
  return first ? poly.map((a, i) => [a, poly[i + 1] ?? first]) : [];
}

/** Each vertex with the next two (wrapping around): the polygon's corners, at the middle one. */
function corners(poly: readonly V[]): [V, V, V][] {
  const [first, second] = poly;
  if (!first || !second) return [];
  return poly.map((a, i) => [a, poly[i + 1] ?? first, poly[i + 2] ?? (i + 2 === poly.length ? first : second)]);
}

/** Signed area (shoelace); positive counter-clockwise in a y-up frame. */
export function polygonArea(poly: readonly V[]): number {
  let s = 0;
  for (const [a, b] of edges(poly)) s += a.x * b.y - b.x * a.y;
  return s / 2;
}

/** Sutherland-Hodgman: `subject` clipped by the convex polygon `clip` (both in the same winding). */
function clipPolygon(subject: readonly V[], clip: readonly V[]): V[] {
  let output = [...subject];
  const ccw = polygonArea(clip) > 0;
  for (const [a, b] of edges(clip)) {
    if (output.length === 0) break;
    const inside = (p: V): boolean => (ccw ? cross(sub(b, a), sub(p, a)) >= 0 : cross(sub(b, a), sub(p, a)) <= 0);
    const input = output;
    output = [];
    for (const [p, q] of edges(input)) {
      const pIn = inside(p);
      const qIn = inside(q);
      if (pIn) output.push(p);
      if (pIn !== qIn) {
        const r = sub(q, p);
        const denom = cross(sub(b, a), r);
        if (denom !== 0) {
          const t = cross(sub(b, a), sub(a, p)) / -denom;
          output.push({ x: p.x + t * r.x, y: p.y + t * r.y });
        }
      }
    }
  }
  return output;
}

function isConvex(poly: readonly V[]): boolean {
  let sign = 0;
  for (const [a, b, c] of corners(poly)) {
    const z = cross(sub(b, a), sub(c, b));
    if (z !== 0) {
      if (sign === 0) sign = Math.sign(z);
      else if (Math.sign(z) !== sign) return false;
    }
  }
  return true;
}

/** Overlap area of two simple quadrilaterals (exact when the clip one is convex, which real bodies are). */
export function overlapArea(a: readonly V[], b: readonly V[]): number {
  const clip = isConvex(b) ? b : isConvex(a) ? a : b;
  const subject = clip === b ? a : b;
  const out = clipPolygon(subject, clip);
  return out.length >= 3 ? Math.abs(polygonArea(out)) : 0;
}

/** The quantities the checks use, exported so the limits can be measured on real spines. */
export interface BodyShape {
  /** Anterior and posterior heights over the mean of the two widths. */
  readonly minHeightShare: number;
  readonly area: number;
  readonly width: number;
  readonly twisted: boolean;
}

const VERTEBRA_NAMES = {
  C3: { up: 'C3up', ua: 'C3ua', la: 'C3la', lp: 'C3lp', m: 'C3m' },
  C4: { up: 'C4up', ua: 'C4ua', la: 'C4la', lp: 'C4lp', m: 'C4m' },
} as const satisfies Record<string, Record<string, LandmarkName>>;

type Pts = Record<LandmarkName, V>;

function bodyPolygon(p: Pts, v: 'C3' | 'C4'): V[] {
  const n = VERTEBRA_NAMES[v];
  return [p[n.up], p[n.ua], p[n.la], p[n.lp]];
}

export function bodyShape(p: Pts, v: 'C3' | 'C4'): BodyShape {
  const n = VERTEBRA_NAMES[v];
  const width = (len(sub(p[n.ua], p[n.up])) + len(sub(p[n.la], p[n.lp]))) / 2;
  const anterior = len(sub(p[n.ua], p[n.la]));
  const posterior = len(sub(p[n.up], p[n.lp]));
  // Twisted: opposite sides cross (corners swapped), so the outline is a bow tie.
  const twisted =
    segmentsCross(p[n.up], p[n.ua], p[n.la], p[n.lp]) || segmentsCross(p[n.ua], p[n.la], p[n.lp], p[n.up]);
  return {
    minHeightShare: width > 0 ? Math.min(anterior, posterior) / width : 0,
    area: Math.abs(polygonArea(bodyPolygon(p, v))),
    width,
    twisted,
  };
}

/** Overlap of the C3 and C4 bodies as a share of the smaller body's area. */
export function bodyOverlapShare(p: Pts): number {
  const c3 = bodyPolygon(p, 'C3');
  const c4 = bodyPolygon(p, 'C4');
  const smaller = Math.min(Math.abs(polygonArea(c3)), Math.abs(polygonArea(c4)));
  return smaller > 0 ? overlapArea(c3, c4) / smaller : 1;
}

/** Where each border's middle lies along the spine (superior positive), in units of the C3 width. */
export function borderLevels(p: Pts): { c2: number; c3u: number; c3l: number; c4u: number; c4l: number } {
  const top = mid(p.C2p, p.C2a);
  const bottom = mid(p.C4lp, p.C4la);
  const axis = sub(top, bottom);
  const axisLen = len(axis) || 1;
  const u = { x: axis.x / axisLen, y: axis.y / axisLen };
  const scale = bodyShape(p, 'C3').width || 1;
  const at = (a: V, b: V): number => dot(sub(mid(a, b), bottom), u) / scale;
  return {
    c2: at(p.C2p, p.C2a),
    c3u: at(p.C3up, p.C3ua),
    c3l: at(p.C3lp, p.C3la),
    c4u: at(p.C4up, p.C4ua),
    c4l: at(p.C4lp, p.C4la),
  };
}

/**
 * The deepest point's position along its chord (0..1 between the corners) and its distance from it (share of the
 * chord).
 */
export function deepestPlacement(
  p: Pts,
  posterior: LandmarkName,
  deepest: LandmarkName,
  anterior: LandmarkName,
): { along: number; off: number } {
  const chord = sub(p[anterior], p[posterior]);
  const c = len(chord) || 1;
  const rel = sub(p[deepest], p[posterior]);
  return { along: dot(rel, chord) / (c * c), off: Math.abs(cross(chord, rel)) / (c * c) };
}

function toPts(landmarks: LandmarkSet, spacing: PixelSpacingMm | null): Pts | null {
  const out = {} as Pts;
  for (const n of LANDMARK_NAMES) {
    const q = landmarks[n];
    if (!q || !Number.isFinite(q.x) || !Number.isFinite(q.y)) return null;
    out[n] = spacing ? { x: q.x * spacing.colMm, y: q.y * spacing.rowMm } : { x: q.x, y: q.y };
  }
  return out;
}

const OK: Plausibility = { verdict: 'ok', problems: [], landmarks: [] };

/** Every geometric check of a landmark set; 'incomplete' when landmarks are missing. */
export function checkPlausibility(landmarks: LandmarkSet, spacing: PixelSpacingMm | null = null): Plausibility {
  const p = toPts(landmarks, spacing);
  if (!p) {
    const missing = LANDMARK_NAMES.filter((n) => !landmarks[n]);
    return {
      verdict: 'implausible',
      problems: [
        {
          code: 'incomplete',
          severity: 'implausible',
          message: `${missing.length} of the 13 landmarks are missing (${missing.join(', ')}).`,
          landmarks: missing,
        },
      ],
      landmarks: missing,
    };
  }
  const L = PLAUSIBILITY_LIMITS;
  const problems: PlausibilityProblem[] = [];
  const add = (
    code: PlausibilityCode,
    severity: PlausibilityProblem['severity'],
    message: string,
    names: readonly LandmarkName[],
  ): void => {
    problems.push({ code, severity, message, landmarks: names });
  };

  // Bodies: twisted (bow tie) or collapsed.
  for (const v of ['C3', 'C4'] as const) {
    const n = VERTEBRA_NAMES[v];
    const corners = [n.up, n.ua, n.la, n.lp];
    const shape = bodyShape(p, v);
    if (shape.twisted) {
      add('twisted', 'implausible', `The outline of ${v} crosses itself: two of its corners are swapped.`, corners);
    } else if (shape.minHeightShare < L.collapsedHeightShare) {
      add(
        'collapsed',
        'implausible',
        `The ${v} body is collapsed: one side is only ${Math.round(shape.minHeightShare * 100)}% of its width.`,
        corners,
      );
    } else if (shape.minHeightShare < L.checkHeightShare) {
      add(
        'collapsed',
        'check',
        `The ${v} body is unusually flat (one side ${Math.round(shape.minHeightShare * 100)}% of its width).`,
        corners,
      );
    }
  }

  // Order along the spine: C2 border above C3 above C4, each body's upper border above its lower one.
  const lv = borderLevels(p);
  const order: [number, number, string, LandmarkName[]][] = [
    [lv.c2, lv.c3u, 'The C2 lower border lies below the top of C3', ['C2p', 'C2m', 'C2a', 'C3up', 'C3ua']],
    [lv.c3u, lv.c3l, 'The C3 upper border lies below its lower border', ['C3up', 'C3ua', 'C3lp', 'C3la']],
    [lv.c3l, lv.c4u, 'C3 reaches below the top of C4', ['C3lp', 'C3m', 'C3la', 'C4up', 'C4ua']],
    [lv.c4u, lv.c4l, 'The C4 upper border lies below its lower border', ['C4up', 'C4ua', 'C4lp', 'C4la']],
  ];
  for (const [upper, lower, message, names] of order) {
    if (!(upper > lower)) add('order', 'implausible', `${message}: the vertebrae cross.`, names);
  }

  // Crossing borders between neighbours (C2 lower border with C3's upper; C3 lower with C4 upper and sides).
  const crossPairs: [LandmarkName, LandmarkName, LandmarkName, LandmarkName][] = [
    ['C2p', 'C2m', 'C3up', 'C3ua'],
    ['C2m', 'C2a', 'C3up', 'C3ua'],
    ['C3lp', 'C3m', 'C4up', 'C4ua'],
    ['C3m', 'C3la', 'C4up', 'C4ua'],
    ['C3lp', 'C3m', 'C4ua', 'C4la'],
    ['C3m', 'C3la', 'C4ua', 'C4la'],
    ['C3lp', 'C3m', 'C4up', 'C4lp'],
    ['C3m', 'C3la', 'C4up', 'C4lp'],
  ];
  const crossed = crossPairs.filter(([a, b, c, d]) => segmentsCross(p[a], p[b], p[c], p[d]));
  if (crossed.length > 0 && !problems.some((q) => q.code === 'order')) {
    const names = [...new Set(crossed.flat())];
    const c2 = crossed.some(([a]) => a.startsWith('C2'));
    add(
      'crossing',
      'implausible',
      `${c2 ? 'The C2 lower border crosses the top of C3' : 'The C3 lower border crosses C4'}.`,
      names,
    );
  }

  // Overlapping bodies (only when neither is twisted: the area of a bow tie means nothing).
  if (!problems.some((q) => q.code === 'twisted')) {
    const share = bodyOverlapShare(p);
    const names: LandmarkName[] = ['C3lp', 'C3la', 'C4up', 'C4ua'];
    if (share > L.overlapShare)
      add('overlap', 'implausible', `C3 and C4 overlap (${Math.round(share * 100)}% of the smaller body).`, names);
    else if (share > L.checkOverlapShare)
      add(
        'overlap',
        'check',
        `C3 and C4 touch or overlap slightly (${Math.round(share * 100)}% of the smaller body).`,
        names,
      );
  }

  // Deepest points on their border.
  for (const [post, deep, ant, v] of [
    ['C2p', 'C2m', 'C2a', 'C2'],
    ['C3lp', 'C3m', 'C3la', 'C3'],
    ['C4lp', 'C4m', 'C4la', 'C4'],
  ] as const) {
    const d = deepestPlacement(p, post, deep, ant);
    if (d.along < -L.deepestAlongMargin || d.along > 1 + L.deepestAlongMargin || d.off > L.deepestOffChord) {
      add(
        'deepest-off-border',
        'implausible',
        `The deepest point of the ${v} lower border (${deep}) is not on that border.`,
        [deep],
      );
    }
  }

  // Proportions: C3, C4 and the C2 border of similar width.
  const w3 = bodyShape(p, 'C3').width;
  const w4 = bodyShape(p, 'C4').width;
  const w2 = len(sub(p.C2a, p.C2p));
  const factor = Math.max(w3, w4, w2) / Math.max(1e-9, Math.min(w3, w4, w2));
  const widest = w3 >= w4 && w3 >= w2 ? 'C3' : w4 >= w2 ? 'C4' : 'the C2 border';
  const narrowest = w3 <= w4 && w3 <= w2 ? 'C3' : w4 <= w2 ? 'C4' : 'the C2 border';
  if (factor > L.widthFactor) {
    add(
      'proportions',
      'implausible',
      `${widest} is ${factor.toFixed(1)} times as wide as ${narrowest}: the points are not on neighbouring vertebrae.`,
      ['C2p', 'C2a', 'C3up', 'C3ua', 'C4up', 'C4ua'],
    );
  } else if (factor > L.checkWidthFactor) {
    add('proportions', 'check', `${widest} is ${factor.toFixed(1)} times as wide as ${narrowest}.`, [
      'C2p',
      'C2a',
      'C3up',
      'C3ua',
      'C4up',
      'C4ua',
    ]);
  }

  if (problems.length === 0) return OK;
  problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'implausible' ? -1 : 1));
  const verdict: PlausibilityVerdict = problems.some((q) => q.severity === 'implausible') ? 'implausible' : 'check';
  return { verdict, problems, landmarks: LANDMARK_NAMES.filter((n) => problems.some((q) => q.landmarks.includes(n))) };
}
