/**
 * Anatomy-aware decoding and expected error (docs/inference.md, "Anatomy and expected error").
 *
 * - A point-distribution model of the 13 C2-C4 landmarks (Procrustes-aligned, PCA; fit by
 *   models/training/fit_decoding.py and shipped with the model as decoding.json) scores how plausible a
 *   configuration is: `shapeDistance` is a squared Mahalanobis distance after removing position, size and
 *   rotation. One point on a neighbouring vertebra gives 400+, real shapes stay below `limit`.
 * - `heatmapCandidates` keeps several local maxima per landmark; `selectConfiguration` picks one per
 *   landmark so that heatmap evidence and shape plausibility together are best.
 * - `expectedErrorMm` turns statistics of the chosen heatmap peak into an expected radial error in mm,
 *   calibrated on cross-validation.
 * Pure: no Node, no DOM.
 */
import { isLandmarkName, type LandmarkName } from '../landmarks/index';

export interface ShapeModel {
  /** Aligned unit-size mean shape: 13 x then 13 y, in the model's landmark order. */
  readonly mean: readonly number[];
  /** Principal modes (each 26 values, unit length) and their variances. */
  readonly modes: readonly (readonly number[])[];
  readonly variances: readonly number[];
  /** Variance per dimension of what the modes do not explain. */
  readonly residualVariance: number;
  /** Shape distances above this are not a plausible C2-C4 configuration. */
  readonly limit: number;
}

export interface ExpectedErrorModel {
  readonly perLandmark: Readonly<Record<LandmarkName, number>>;
  readonly spreadLog: number;
  readonly peakLog: number;
  readonly outsideLog: number;
  readonly residualVariance: number;
  /** Radius (heatmap pixels) of the disc the spread is measured in, and of the core whose outside mass counts. */
  readonly spreadRadiusPx: number;
  readonly coreRadiusPx: number;
  /** Landmarks expected to be this far off or more are flagged for checking. */
  readonly flagMm: number;
  /**
   * The image verdict says 'check' only when a landmark is expected to be this far off or more (fit on the
   * cross-validated images by fit_decoding.py); null in older files: any flagged landmark makes it 'check'.
   */
  readonly imageCheckMm: number | null;
  /** Coefficients of log(ttaSpreadMm) and log(shapeShiftMm) (0 in files without test-time decoding). */
  readonly ttaSpreadLog: number;
  readonly shapeShiftLog: number;
  /** Coefficient of log(memberSpreadMm), the disagreement of the ensemble's members (0 in files without one). */
  readonly memberSpreadLog: number;
}

/**
 * Test-time decoding: stage 2 is also run on crops turned by `rotationsDeg` about the same centre, each
 * landmark's positions averaged, then the configuration is pulled towards the shape model
 * (`regulariseShape` with `shapeWeight`, each point weighted by its heatmap spread).
 */
export interface TestTimeParams {
  readonly rotationsDeg: readonly number[];
  readonly shapeWeight: number;
  /** A turned crop's peak is searched within this distance of the chosen point. */
  readonly searchRadiusMm: number;
  /**
   * The stage-2 runs, in order: which network (`member`: 0 = stages.refine, then stages.refine.ensemble) on
   * the crop turned by `rotationDeg`. Files without `passes`: member 0 unturned, then member 0 at each of
   * `rotationsDeg`. At least one pass is unturned (the candidates are taken from the unturned heatmaps).
   */
  readonly passes: readonly TestTimePass[];
  /**
   * How the unturned passes of several members are combined: 'coordinates' (default): the candidates come from
   * the first unturned pass and every pass contributes its own peak near the chosen point, all averaged;
   * 'heatmaps': the unturned heatmaps are averaged first, candidates, statistics and that position come from
   * the mean heatmap (weighted by the number of heatmaps in it), the turned passes are added as before.
   */
  readonly combine: 'coordinates' | 'heatmaps';
}

export interface TestTimePass {
  readonly member: number;
  readonly rotationDeg: number;
}

/** The number of stage-2 networks the passes use (1 + the largest member index). */
export function membersUsed(tt: TestTimeParams | null): number {
  return tt ? Math.max(0, ...tt.passes.map((p) => p.member)) + 1 : 1;
}

export interface DecodingParams {
  readonly shapeModel: ShapeModel;
  readonly expectedError: ExpectedErrorModel;
  /** Absent in older decoding files: one stage-2 pass, no shape regularisation. */
  readonly testTime: TestTimeParams | null;
}

export class DecodingError extends Error {}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const numbers = (v: unknown, n: number, where: string): number[] => {
  if (!Array.isArray(v) || v.length !== n || !v.every(isFiniteNumber))
    throw new DecodingError(`${where} must be ${n} numbers`);
  return v as number[];
};
const positive = (v: unknown, where: string): number => {
  if (!isFiniteNumber(v) || v <= 0) throw new DecodingError(`${where} must be a positive number`);
  return v;
};
const finite = (v: unknown, where: string): number => {
  if (!isFiniteNumber(v)) throw new DecodingError(`${where} must be a number`);
  return v;
};

/** Checks decoding.json against the model's landmark order; throws DecodingError naming the field. */
export function parseDecoding(json: unknown, landmarks: readonly LandmarkName[]): DecodingParams {
  if (!isObject(json)) throw new DecodingError('decoding.json must be a JSON object');
  const names = json.landmarks;
  if (!Array.isArray(names) || names.length !== landmarks.length || names.some((n, i) => n !== landmarks[i])) {
    throw new DecodingError(`decoding.json landmarks must equal the manifest's order (${landmarks.join(', ')})`);
  }
  const sm = json.shapeModel;
  if (!isObject(sm)) throw new DecodingError('decoding.json needs a shapeModel object');
  const d = 2 * landmarks.length;
  const variances = Array.isArray(sm.variances)
    ? (sm.variances as unknown[]).map((v, i) => positive(v, `shapeModel.variances[${i}]`))
    : [];
  if (variances.length === 0) throw new DecodingError('shapeModel.variances must be a non-empty array');
  if (!Array.isArray(sm.modes) || sm.modes.length !== variances.length)
    throw new DecodingError(`shapeModel.modes must hold ${variances.length} modes`);
  const shapeModel: ShapeModel = {
    mean: numbers(sm.mean, d, 'shapeModel.mean'),
    modes: (sm.modes as unknown[]).map((m, i) => numbers(m, d, `shapeModel.modes[${i}]`)),
    variances,
    residualVariance: positive(sm.residualVariance, 'shapeModel.residualVariance'),
    limit: positive(sm.limit, 'shapeModel.limit'),
  };
  const ee = json.expectedError;
  if (!isObject(ee) || !isObject(ee.perLandmark))
    throw new DecodingError('decoding.json needs expectedError.perLandmark');
  const per = ee.perLandmark;
  const perLandmark = Object.fromEntries(
    landmarks.map((n) => [n, finite(per[n], `expectedError.perLandmark.${n}`)]),
  ) as Record<LandmarkName, number>;
  const extra = Object.keys(per).filter((k) => !isLandmarkName(k));
  if (extra.length > 0) throw new DecodingError(`expectedError.perLandmark has unknown names: ${extra.join(', ')}`);
  return {
    shapeModel,
    expectedError: {
      perLandmark,
      spreadLog: finite(ee.spreadLog, 'expectedError.spreadLog'),
      peakLog: finite(ee.peakLog, 'expectedError.peakLog'),
      outsideLog: finite(ee.outsideLog, 'expectedError.outsideLog'),
      residualVariance: positive(ee.residualVariance, 'expectedError.residualVariance'),
      spreadRadiusPx: positive(ee.spreadRadiusPx, 'expectedError.spreadRadiusPx'),
      coreRadiusPx: positive(ee.coreRadiusPx, 'expectedError.coreRadiusPx'),
      flagMm: positive(ee.flagMm, 'expectedError.flagMm'),
      imageCheckMm: ee.imageCheckMm === undefined ? null : positive(ee.imageCheckMm, 'expectedError.imageCheckMm'),
      ttaSpreadLog: ee.ttaSpreadLog === undefined ? 0 : finite(ee.ttaSpreadLog, 'expectedError.ttaSpreadLog'),
      shapeShiftLog: ee.shapeShiftLog === undefined ? 0 : finite(ee.shapeShiftLog, 'expectedError.shapeShiftLog'),
      memberSpreadLog:
        ee.memberSpreadLog === undefined ? 0 : finite(ee.memberSpreadLog, 'expectedError.memberSpreadLog'),
    },
    testTime: parseTestTime(json.testTime),
  };
}

function parseTestTime(tt: unknown): TestTimeParams | null {
  if (tt === undefined) return null;
  if (!isObject(tt)) throw new DecodingError('decoding.json testTime must be an object');
  const r = tt.rotationsDeg;
  if (!Array.isArray(r) || !r.every((v) => isFiniteNumber(v) && Math.abs(v) <= 45))
    throw new DecodingError('testTime.rotationsDeg must be numbers of at most 45 degrees');
  const shapeWeight = tt.shapeWeight;
  if (!isFiniteNumber(shapeWeight) || shapeWeight < 0)
    throw new DecodingError('testTime.shapeWeight must be a number >= 0');
  const rotationsDeg = r as number[];
  let passes: TestTimePass[] = [
    { member: 0, rotationDeg: 0 },
    ...rotationsDeg.map((d) => ({ member: 0, rotationDeg: d })),
  ];
  if (tt.passes !== undefined) {
    if (!Array.isArray(tt.passes) || tt.passes.length === 0)
      throw new DecodingError('testTime.passes must be a non-empty array of {member, rotationDeg}');
    passes = (tt.passes as unknown[]).map((p, i) => {
      const where = `testTime.passes[${i}]`;
      if (!isObject(p)) throw new DecodingError(`${where} must be an object {member, rotationDeg}`);
      if (!Number.isInteger(p.member) || (p.member as number) < 0)
        throw new DecodingError(`${where}.member must be an integer >= 0 (0 = stages.refine)`);
      if (!isFiniteNumber(p.rotationDeg) || Math.abs(p.rotationDeg) > 45)
        throw new DecodingError(`${where}.rotationDeg must be a number of at most 45 degrees`);
      return { member: p.member as number, rotationDeg: p.rotationDeg };
    });
    if (!passes.some((p) => p.rotationDeg === 0))
      throw new DecodingError('testTime.passes needs at least one unturned pass (rotationDeg 0)');
  }
  const combine = tt.combine ?? 'coordinates';
  if (combine !== 'coordinates' && combine !== 'heatmaps')
    throw new DecodingError('testTime.combine must be "coordinates" or "heatmaps"');
  return {
    rotationsDeg,
    shapeWeight,
    searchRadiusMm: positive(tt.searchRadiusMm, 'testTime.searchRadiusMm'),
    passes,
    combine,
  };
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * Squared Mahalanobis distance of a configuration (points in the model's landmark order, in any
 * similarity frame with x right and y down) from the shape model: the configuration is centred and
 * rotated/scaled onto the mean (least squares, no reflection), then measured in the principal modes plus
 * the isotropic residual. A mirrored configuration is far: reflection is not removed.
 */
export function shapeDistance(model: ShapeModel, points: readonly Point[]): number {
  return alignShape(model, points).distance;
}

export interface ShapeFit {
  /** Squared Mahalanobis distance (see shapeDistance). */
  readonly distance: number;
  /** Rotation (degrees, positive = clockwise in image coordinates) that turns the configuration onto the mean. */
  readonly rotationDeg: number;
}

// Shape-model and heatmap kernels: vectors hold 2n values (checked by parseDecoding), heatmap indices stay inside
// W x H, and each candidate choice is below its candidate list's length.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- indices bounded as said above */
/**
 * The least-squares similarity a (complex: ar + i ai) that maps the centred points onto the model's mean, and
 * the residual x = a z - mean (2n values, x then y); null for a configuration collapsed to one point.
 */
function alignToMean(
  model: ShapeModel,
  points: readonly Point[],
): { cx: number; cy: number; ar: number; ai: number; x: Float64Array } | null {
  const n = points.length;
  if (model.mean.length !== 2 * n) throw new Error(`shape model for ${model.mean.length / 2} points, got ${n}`);
  let cx = 0;
  let cy = 0;
  for (const p of points) {
    cx += p.x / n;
    cy += p.y / n;
  }
  // Complex least squares: a = <z, m> / <z, z>, aligned = a z.
  let zz = 0;
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const zx = points[i]!.x - cx;
    const zy = points[i]!.y - cy;
    const mx = model.mean[i]!;
    const my = model.mean[n + i]!;
    zz += zx * zx + zy * zy;
    re += zx * mx + zy * my;
    im += zx * my - zy * mx;
  }
  if (!(zz > 0)) return null;
  const ar = re / zz;
  const ai = im / zz;
  const x = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const zx = points[i]!.x - cx;
    const zy = points[i]!.y - cy;
    x[i] = ar * zx - ai * zy - model.mean[i]!;
    x[n + i] = ar * zy + ai * zx - model.mean[n + i]!;
  }
  return { cx, cy, ar, ai, x };
}

/** shapeDistance and the rotation of the alignment: an upright image needs about 0 degrees. */
export function alignShape(model: ShapeModel, points: readonly Point[]): ShapeFit {
  const aligned = alignToMean(model, points);
  if (!aligned) return { distance: Number.POSITIVE_INFINITY, rotationDeg: 180 };
  const { ar: cr, ai: ci, x } = aligned;
  let total = 0;
  let norm2 = 0;
  for (let j = 0; j < x.length; j++) norm2 += x[j]! * x[j]!;
  let explained = 0;
  model.modes.forEach((mode, k) => {
    let b = 0;
    for (let j = 0; j < x.length; j++) b += mode[j]! * x[j]!;
    explained += b * b;
    total += (b * b) / model.variances[k]!;
  });
  return {
    distance: total + Math.max(0, norm2 - explained) / model.residualVariance,
    rotationDeg: (Math.atan2(ci, cr) * 180) / Math.PI,
  };
}

export interface Candidate {
  /** Heatmap pixels, sub-pixel. */
  readonly u: number;
  readonly v: number;
  readonly value: number;
  /** The integer pixel of the maximum. */
  readonly pu: number;
  readonly pv: number;
}

/** One landmark's heatmap inside a [1, K, H, W] model output: its values are data[offset + y * W + x]. */
export interface HeatmapChannel {
  readonly data: Float32Array;
  readonly W: number;
  readonly H: number;
  readonly offset: number;
}

/** Channel c of a [1, K, H, W] output. */
export function heatmapChannel(data: Float32Array, W: number, H: number, c: number): HeatmapChannel {
  return { data, W, H, offset: c * W * H };
}

/**
 * Up to `max` local maxima of one heatmap, strongest first: each at least `minRatio` of the strongest and
 * farther than `separationPx` from every stronger one, refined to sub-pixel like `heatmapPeak`.
 */
export function heatmapCandidates(
  channel: HeatmapChannel,
  max: number,
  separationPx: number,
  minRatio: number,
): Candidate[] {
  const { data, W, H, offset } = channel;
  const end = offset + W * H;
  let strongest = 0;
  for (let i = offset; i < end; i++) {
    const value = data[i]!;
    if (value > strongest) strongest = value;
  }
  const floor = minRatio * strongest;
  // One flat pass in row order, the cheap test first: in a new process this loop runs in V8's interpreter, where a
  // nested loop with its index arithmetic per pixel took four times as long (the cold `cvm analyze`, #14).
  const local: { i: number; value: number }[] = [];
  for (let i = offset; i < end; i++) {
    const value = data[i]!;
    if (value < floor || !(value > 0)) continue;
    const p = i - offset;
    const v = Math.floor(p / W);
    const u = p - v * W;
    let isMax = true;
    for (let dv = -1; dv <= 1 && isMax; dv++) {
      const vv = v + dv;
      if (vv < 0 || vv >= H) continue;
      for (let du = -1; du <= 1; du++) {
        const uu = u + du;
        if ((du === 0 && dv === 0) || uu < 0 || uu >= W) continue;
        const other = data[offset + vv * W + uu]!;
        // Ties go to the first in row order, as heatmapPeak.
        if (other > value || (other === value && vv * W + uu < p)) {
          isMax = false;
          break;
        }
      }
    }
    if (isMax) local.push({ i: p, value });
  }
  local.sort((a, b) => b.value - a.value || a.i - b.i);
  const out: Candidate[] = [];
  const best = local[0]?.value ?? 0;
  for (const c of local) {
    if (out.length >= max || c.value < minRatio * best) break;
    const v = Math.floor(c.i / W);
    const u = c.i - v * W;
    if (out.some((o) => Math.hypot(o.u - u, o.v - v) <= separationPx)) continue;
    const at = (uu: number, vv: number): number => data[offset + vv * W + uu]!;
    const du = u > 0 && u < W - 1 ? parabola(at(u - 1, v), c.value, at(u + 1, v)) : 0;
    const dv = v > 0 && v < H - 1 ? parabola(at(u, v - 1), c.value, at(u, v + 1)) : 0;
    out.push({ u: u + du, v: v + dv, value: c.value, pu: u, pv: v });
  }
  return out;
}

function parabola(a: number, b: number, c: number): number {
  const den = a - 2 * b + c;
  if (den === 0) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den));
}

export interface PlacedCandidate extends Point {
  /** Heatmap value at the candidate. */
  readonly value: number;
}

export interface Selection {
  /** Index of the chosen candidate per landmark. */
  readonly choice: readonly number[];
  readonly shapeDistance: number;
  /** Landmarks whose chosen candidate is not their strongest peak. */
  readonly changed: readonly number[];
}

/** Weight of the shape distance against the heatmap evidence (-log of the chosen peak values). */
export const SHAPE_TEMPERATURE = 4;

/**
 * Picks one candidate per landmark minimising sum(-log value) + shapeDistance / (2 * SHAPE_TEMPERATURE), by
 * coordinate descent from the strongest peaks (each step can only lower the cost, so it ends).
 */
export function selectConfiguration(model: ShapeModel, candidates: readonly (readonly PlacedCandidate[])[]): Selection {
  const choice = candidates.map(() => 0);
  const evidence = (c: PlacedCandidate): number => -Math.log(Math.max(c.value, 1e-3));
  const points = (): Point[] => candidates.map((cs, i) => cs[choice[i]!]!);
  const cost = (): number => {
    let e = 0;
    candidates.forEach((cs, i) => {
      e += evidence(cs[choice[i]!]!);
    });
    return e + shapeDistance(model, points()) / (2 * SHAPE_TEMPERATURE);
  };
  let current = cost();
  for (let sweep = 0; sweep < 10; sweep++) {
    let improved = false;
    for (let i = 0; i < candidates.length; i++) {
      const keep = choice[i]!;
      for (let k = 0; k < candidates[i]!.length; k++) {
        if (k === choice[i]) continue;
        const previous = choice[i]!;
        choice[i] = k;
        const c = cost();
        if (c < current - 1e-9) {
          current = c;
          improved = true;
        } else {
          choice[i] = previous;
        }
      }
      void keep;
    }
    if (!improved) break;
  }
  return {
    choice,
    shapeDistance: shapeDistance(model, points()),
    changed: choice.flatMap((k, i) => (k !== 0 ? [i] : [])),
  };
}

export interface HeatmapStats {
  /** Heatmap value at the chosen peak. */
  readonly peak: number;
  /** Spread (root mean square distance from its centroid) of the heatmap within spreadRadiusPx, in mm. */
  readonly spreadMm: number;
  /** Share of the heatmap's (positive) mass farther than coreRadiusPx from the peak. */
  readonly outside: number;
}

/** Statistics of one heatmap around the integer pixel (u, v); as fit_decoding.py computes them. */
export function heatmapStats(
  channel: HeatmapChannel,
  u: number,
  v: number,
  m: ExpectedErrorModel,
  mmPerPixel: number,
): HeatmapStats {
  const { data, W, H, offset } = channel;
  const iu = Math.max(0, Math.min(W - 1, Math.round(u)));
  const iv = Math.max(0, Math.min(H - 1, Math.round(v)));
  let total = 0;
  let core = 0;
  let q = 0;
  let qx = 0;
  let qy = 0;
  let qxx = 0;
  const r2 = m.spreadRadiusPx * m.spreadRadiusPx;
  const c2 = m.coreRadiusPx * m.coreRadiusPx;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const value = data[offset + y * W + x]!;
      if (!(value > 0)) continue;
      total += value;
      const d2 = (x - iu) ** 2 + (y - iv) ** 2;
      if (d2 <= c2) core += value;
      if (d2 <= r2) {
        q += value;
        qx += value * x;
        qy += value * y;
        qxx += value * (x * x + y * y);
      }
    }
  }
  const peak = data[offset + iv * W + iu]!;
  if (!(total > 0) || !(q > 0)) return { peak, spreadMm: m.spreadRadiusPx * mmPerPixel, outside: 1 };
  const mx = qx / q;
  const my = qy / q;
  const variance = Math.max(0, qxx / q - mx * mx - my * my);
  return { peak, spreadMm: Math.sqrt(variance) * mmPerPixel, outside: Math.max(0, 1 - core / total) };
}

/* eslint-enable @typescript-eslint/no-non-null-assertion */
/** What the expected error is computed from, per landmark (mm where a length). */
export interface UncertaintyFeatures extends HeatmapStats {
  /** Root mean square distance of the test-time passes' positions from their mean (0 with one pass). */
  readonly ttaSpreadMm: number;
  /** How far the shape regularisation moved the point (0 without it). */
  readonly shapeShiftMm: number;
  /**
   * Disagreement of the ensemble's members: root mean square distance of each member's mean position (over its
   * passes) from the mean of the members' positions (0 with one member).
   */
  readonly memberSpreadMm: number;
}

/** Floor of the two test-time lengths inside the log (they are 0 without test-time decoding). */
export const TTA_FLOOR_MM = 0.01;

/** Expected radial error in mm of a landmark from its uncertainty features (the calibrated log-linear model). */
export function expectedErrorMm(
  m: ExpectedErrorModel,
  name: LandmarkName,
  s: HeatmapStats & Partial<UncertaintyFeatures>,
): number {
  const log =
    m.perLandmark[name] +
    m.spreadLog * Math.log(Math.max(s.spreadMm, 1e-3)) +
    m.peakLog * Math.log(Math.max(s.peak, 1e-3)) +
    m.outsideLog * Math.log(s.outside + 1e-3) +
    m.ttaSpreadLog * Math.log(Math.max(s.ttaSpreadMm ?? 0, TTA_FLOOR_MM)) +
    m.shapeShiftLog * Math.log(Math.max(s.shapeShiftMm ?? 0, TTA_FLOOR_MM)) +
    m.memberSpreadLog * Math.log(Math.max(s.memberSpreadMm ?? 0, TTA_FLOOR_MM));
  return Math.max(0, Math.exp(log + m.residualVariance / 2) - 0.05);
}

// Test-time kernels: loops stay inside the W x H heatmap (clamped ranges), vectors hold 2n values (checked at
// the top of regulariseShape), and the solver's matrix is d x (d + 1).
/* eslint-disable @typescript-eslint/no-non-null-assertion -- indices bounded as said above */
/**
 * The strongest value of one heatmap within `radiusPx` of (u, v), refined to sub-pixel like heatmapPeak;
 * null when the disc holds no positive value or lies outside the heatmap.
 */
export function localPeak(channel: HeatmapChannel, u: number, v: number, radiusPx: number): Candidate | null {
  const { data, W, H, offset } = channel;
  const r2 = radiusPx * radiusPx;
  let best = -1;
  let bu = 0;
  let bv = 0;
  for (let y = Math.max(0, Math.ceil(v - radiusPx)); y <= Math.min(H - 1, Math.floor(v + radiusPx)); y++) {
    for (let x = Math.max(0, Math.ceil(u - radiusPx)); x <= Math.min(W - 1, Math.floor(u + radiusPx)); x++) {
      if ((x - u) ** 2 + (y - v) ** 2 > r2) continue;
      const value = data[offset + y * W + x]!;
      if (value > best) {
        best = value;
        bu = x;
        bv = y;
      }
    }
  }
  if (!(best > 0)) return null;
  const at = (uu: number, vv: number): number => data[offset + vv * W + uu]!;
  const du = bu > 0 && bu < W - 1 ? parabola(at(bu - 1, bv), best, at(bu + 1, bv)) : 0;
  const dv = bv > 0 && bv < H - 1 ? parabola(at(bu, bv - 1), best, at(bu, bv + 1)) : 0;
  return { u: bu + du, v: bv + dv, value: best, pu: bu, pv: bv };
}

/**
 * Pulls a configuration towards the shape model: with the configuration's own similarity alignment onto
 * the mean, the aligned points x minimise sum_i w_i |x_i - observed_i|^2 + weight * (x - mean)' M (x - mean),
 * where M is the shape model's inverse covariance (modes plus isotropic residual) and w_i = 1 / sigma_i^2
 * (sigma in the configuration's pixels: a sharp heatmap holds its point, a spread one gives way). Returns
 * the points in the input frame. weight 0 returns them unchanged.
 */
export function regulariseShape(
  model: ShapeModel,
  points: readonly Point[],
  sigmaPx: readonly number[],
  weight: number,
): Point[] {
  const n = points.length;
  if (model.mean.length !== 2 * n) throw new Error(`shape model for ${model.mean.length / 2} points, got ${n}`);
  if (sigmaPx.length !== n) throw new Error(`regulariseShape: ${sigmaPx.length} sigmas for ${n} points`);
  if (!(weight > 0)) return points.map((p) => ({ x: p.x, y: p.y }));
  const aligned = alignToMean(model, points);
  if (!aligned) return points.map((p) => ({ x: p.x, y: p.y }));
  // aligned = a * z with a = ar + i ai; |a| converts image pixels to aligned units.
  const { cx, cy, ar, ai, x } = aligned;
  const scale = Math.hypot(ar, ai);
  const d = 2 * n;
  const w = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const s = Math.max(sigmaPx[i]!, 1e-6) * scale;
    w[i] = 1 / (s * s);
    w[n + i] = w[i]!;
  }
  // A = diag(w) + weight * M, M = V' diag(1/var) V + (I - V'V) / residual; b = w .* x.
  const A = Array.from({ length: d }, () => new Float64Array(d + 1));
  for (let r = 0; r < d; r++) {
    A[r]![r] = w[r]! + weight / model.residualVariance;
    A[r]![d] = w[r]! * x[r]!;
  }
  model.modes.forEach((mode, k) => {
    const c = weight * (1 / model.variances[k]! - 1 / model.residualVariance);
    for (let r = 0; r < d; r++) {
      const mr = c * mode[r]!;
      const row = A[r]!;
      for (let q = 0; q < d; q++) row[q] = row[q]! + mr * mode[q]!;
    }
  });
  const sol = solve(A, d);
  const ar2 = ar * ar + ai * ai;
  return points.map((_, i) => {
    const qx = sol[i]! + model.mean[i]!;
    const qy = sol[n + i]! + model.mean[n + i]!;
    // z = q / a
    return { x: cx + (qx * ar + qy * ai) / ar2, y: cy + (qy * ar - qx * ai) / ar2 };
  });
}

/** Gaussian elimination with partial pivoting on an augmented d x (d + 1) matrix (symmetric positive definite here). */
function solve(A: Float64Array[], d: number): Float64Array {
  for (let col = 0; col < d; col++) {
    let piv = col;
    for (let r = col + 1; r < d; r++) if (Math.abs(A[r]![col]!) > Math.abs(A[piv]![col]!)) piv = r;
    if (piv !== col) [A[col], A[piv]] = [A[piv]!, A[col]!];
    const p = A[col]!;
    const pc = p[col]!;
    for (let r = col + 1; r < d; r++) {
      const row = A[r]!;
      const f = row[col]! / pc;
      if (f === 0) continue;
      for (let q = col; q <= d; q++) row[q] = row[q]! - f * p[q]!;
    }
  }
  const out = new Float64Array(d);
  for (let r = d - 1; r >= 0; r--) {
    const row = A[r]!;
    let s = row[d]!;
    for (let q = r + 1; q < d; q++) s -= row[q]! * out[q]!;
    out[r] = s / row[r]!;
  }
  return out;
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */
