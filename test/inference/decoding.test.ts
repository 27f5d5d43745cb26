/**
 * Anatomy-aware decoding (core/inference/decoding.ts) with the shipped shape model, and the orientation
 * maps (core/inference/orientation.ts). Pure: no ONNX.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DecodingError,
  ORIENTATIONS,
  alignShape,
  expectedErrorMm,
  heatmapCandidates,
  heatmapStats,
  imageToRoi,
  localPeak,
  orientPixels,
  regulariseShape,
  roiToImage,
  sampleRoi,
  parseDecoding,
  selectConfiguration,
  shapeDistance,
  storedToUpright,
  turnPixels,
  turnPoint,
  uprightSize,
  uprightToStored,
  type PlacedCandidate,
} from '../../core/inference/index';
import { imagePoint } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkSet } from '../../core/landmarks/index';
import { onWrongVertebra, spearman } from '../../core/metrics/index';
import { REPO_ROOT } from '../shared-data';

const MODEL = path.join(REPO_ROOT, 'models', 'cvm13-unet');
const decodingJson = JSON.parse(readFileSync(path.join(MODEL, 'decoding.json'), 'utf8')) as Record<string, unknown>;
const decoding = parseDecoding(decodingJson, LANDMARK_NAMES);
const model = decoding.shapeModel;

/** The model's mean C2-C4 configuration at the size of a cephalogram at 0.1 mm/px (about 300 px across). */
const SHAPE: [number, number][] = LANDMARK_NAMES.map((_, i) => [
  800 + 600 * model.mean[i]!,
  1700 + 600 * model.mean[13 + i]!,
]);
const pts = SHAPE.map(([x, y]) => ({ x, y }));

describe('shape model', () => {
  it('finds an annotated configuration plausible, in any position, size and small rotation', () => {
    expect(shapeDistance(model, pts)).toBeLessThan(model.limit);
    const moved = pts.map((p) => {
      const a = (10 * Math.PI) / 180;
      return {
        x: 3 + 0.5 * (p.x * Math.cos(a) - p.y * Math.sin(a)),
        y: -40 + 0.5 * (p.x * Math.sin(a) + p.y * Math.cos(a)),
      };
    });
    expect(shapeDistance(model, moved)).toBeCloseTo(shapeDistance(model, pts), 6);
    expect(alignShape(model, moved).rotationDeg).toBeCloseTo(alignShape(model, pts).rotationDeg - 10, 4);
  });

  it('refuses one point on the neighbouring vertebra, and a mirrored column', () => {
    const c3m = LANDMARK_NAMES.indexOf('C3m');
    const c4m = LANDMARK_NAMES.indexOf('C4m');
    const onC4 = pts.map((p, i) => (i === c3m ? pts[c4m]! : p));
    expect(shapeDistance(model, onC4)).toBeGreaterThan(model.limit);
    // C4m moved one vertebra down (onto C5).
    const onC5 = pts.map((p, i) => (i === c4m ? { x: 2 * p.x - pts[c3m]!.x, y: 2 * p.y - pts[c3m]!.y } : p));
    expect(shapeDistance(model, onC5)).toBeGreaterThan(model.limit);
    const mirrored = pts.map((p) => ({ x: -p.x, y: p.y }));
    expect(shapeDistance(model, mirrored)).toBeGreaterThan(model.limit);
  });

  it('chooses the weaker peak on the right vertebra over a stronger one on the next', () => {
    const c3m = LANDMARK_NAMES.indexOf('C3m');
    const c4m = LANDMARK_NAMES.indexOf('C4m');
    const candidates: PlacedCandidate[][] = pts.map((p, i) => {
      if (i !== c3m) return [{ ...p, value: 0.9 }];
      // Strongest peak on C4's lower border, the true one second.
      return [
        { ...pts[c4m]!, value: 0.9 },
        { ...p, value: 0.3 },
      ];
    });
    const s = selectConfiguration(model, candidates);
    expect(s.choice[c3m]).toBe(1);
    expect(s.changed).toEqual([c3m]);
    expect(s.shapeDistance).toBeLessThan(model.limit);
    // With no competing candidate nothing changes.
    const plain = selectConfiguration(
      model,
      pts.map((p) => [{ ...p, value: 0.8 }]),
    );
    expect(plain.changed).toEqual([]);
  });

  it('refuses a decoding file that does not fit the model', () => {
    expect(() => parseDecoding({ ...decodingJson, landmarks: [...LANDMARK_NAMES].reverse() }, LANDMARK_NAMES)).toThrow(
      DecodingError,
    );
    expect(() =>
      parseDecoding(
        { ...decodingJson, shapeModel: { ...(decodingJson.shapeModel as object), limit: -1 } },
        LANDMARK_NAMES,
      ),
    ).toThrow(/shapeModel.limit/);
  });
});

describe('heatmap candidates and expected error', () => {
  const W = 40;
  const H = 30;
  const blob = (cx: number, cy: number, peak: number, sigma: number, into: Float32Array): void => {
    for (let v = 0; v < H; v++)
      for (let u = 0; u < W; u++)
        into[v * W + u]! += peak * Math.exp(-((u - cx) ** 2 + (v - cy) ** 2) / (2 * sigma ** 2));
  };

  it('keeps separate local maxima, strongest first, and drops weak or near ones', () => {
    const hm = new Float32Array(W * H);
    blob(10, 10, 1, 1.5, hm);
    blob(30, 20, 0.4, 1.5, hm);
    blob(12.2, 10, 0.001, 1, hm); // a ripple on the first peak
    const c = heatmapCandidates({ data: hm, W, H, offset: 0 }, 4, 3, 0.05);
    expect(c.map((x) => [Math.round(x.u), Math.round(x.v)])).toEqual([
      [10, 10],
      [30, 20],
    ]);
    expect(heatmapCandidates({ data: hm, W, H, offset: 0 }, 4, 3, 0.5)).toHaveLength(1);
  });

  it('expects a larger error from a wide, weak peak than from a sharp one', () => {
    const sharp = new Float32Array(W * H);
    blob(20, 15, 1, 1.2, sharp);
    const wide = new Float32Array(W * H);
    blob(20, 15, 0.3, 4, wide);
    blob(5, 5, 0.1, 3, wide);
    const e = decoding.expectedError;
    const a = expectedErrorMm(e, 'C3m', heatmapStats({ data: sharp, W, H, offset: 0 }, 20, 15, e, 0.35));
    const b = expectedErrorMm(e, 'C3m', heatmapStats({ data: wide, W, H, offset: 0 }, 20, 15, e, 0.35));
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a * 1.5);
  });
});

describe('test-time decoding', () => {
  it('the shipped decoding runs stage 2 on turned crops and regularises the shape', () => {
    expect(decoding.testTime).not.toBeNull();
    expect(decoding.testTime!.rotationsDeg.length).toBeGreaterThan(0);
    expect(decoding.testTime!.shapeWeight).toBeGreaterThan(0);
    expect(() =>
      parseDecoding(
        { ...decodingJson, testTime: { rotationsDeg: [90], shapeWeight: 0.1, searchRadiusMm: 3 } },
        LANDMARK_NAMES,
      ),
    ).toThrow(/rotationsDeg/);
    expect(() =>
      parseDecoding(
        { ...decodingJson, testTime: { rotationsDeg: [8], shapeWeight: -1, searchRadiusMm: 3 } },
        LANDMARK_NAMES,
      ),
    ).toThrow(/shapeWeight/);
    // Older files without testTime: one pass, no regularisation, expected error from the heatmap alone.
    const { testTime: _, ...v1 } = decodingJson;
    void _;
    expect(parseDecoding(v1, LANDMARK_NAMES).testTime).toBeNull();
  });

  it('pulls a point that leaves the shape back, the more the wider its heatmap, and keeps the mean shape', () => {
    const sigma = pts.map(() => 10);
    const same = regulariseShape(model, pts, sigma, decoding.testTime!.shapeWeight);
    same.forEach((p, i) => expect(Math.hypot(p.x - pts[i]!.x, p.y - pts[i]!.y)).toBeLessThan(0.5));
    const c3up = LANDMARK_NAMES.indexOf('C3up');
    // C3up 25 px (2.5 mm) up into the disc space.
    const off = pts.map((p, i) => (i === c3up ? { x: p.x, y: p.y - 25 } : p));
    const moved = (s: number): number => {
      const r = regulariseShape(
        model,
        off,
        off.map((_, i) => (i === c3up ? s : 10)),
        decoding.testTime!.shapeWeight,
      );
      return Math.hypot(r[c3up]!.x - off[c3up]!.x, r[c3up]!.y - off[c3up]!.y);
    };
    expect(moved(5)).toBeGreaterThan(0.5);
    expect(moved(20)).toBeGreaterThan(moved(5));
    expect(regulariseShape(model, off, sigma, 0)).toEqual(off);
    // The same configuration moved, turned and scaled is regularised the same way.
    const a = (12 * Math.PI) / 180;
    const t = (p: { x: number; y: number }): { x: number; y: number } => ({
      x: 40 + 0.7 * (p.x * Math.cos(a) - p.y * Math.sin(a)),
      y: -15 + 0.7 * (p.x * Math.sin(a) + p.y * Math.cos(a)),
    });
    const r1 = regulariseShape(model, off, sigma, 0.1).map(t);
    const r2 = regulariseShape(
      model,
      off.map(t),
      sigma.map((s) => 0.7 * s),
      0.1,
    );
    r1.forEach((p, i) => expect(Math.hypot(p.x - r2[i]!.x, p.y - r2[i]!.y)).toBeLessThan(1e-6));
  });

  it('finds the strongest value near a point, not a stronger one farther away', () => {
    const W = 20;
    const H = 10;
    const hm = new Float32Array(W * H);
    hm[5 * W + 3] = 0.5;
    hm[5 * W + 4] = 0.3;
    hm[5 * W + 15] = 0.9;
    const p = localPeak({ data: hm, W, H, offset: 0 }, 4, 4, 3)!;
    expect(p.pu).toBe(3);
    expect(p.pv).toBe(5);
    expect(p.u).toBeGreaterThan(3);
    expect(p.u).toBeLessThan(3.5);
    expect(localPeak({ data: hm, W, H, offset: 0 }, 10, 1, 2)).toBeNull();
  });

  it('turns a region of interest about its centre, in millimetres', () => {
    const g = { cx: 100, cy: 80, W: 16, H: 20, sx: 3, sy: 1.5, rotationDeg: 90 };
    // A step along u (to the right in the crop) goes down in the image when the grid is turned 90 degrees.
    const c = roiToImage(g, 7.5, 9.5);
    expect(c.x).toBeCloseTo(100, 9);
    expect(c.y).toBeCloseTo(80, 9);
    const r = roiToImage(g, 8.5, 9.5);
    expect(r.x).toBeCloseTo(100, 9);
    expect(r.y).toBeCloseTo(81.5, 9);
    for (const [u, v] of [
      [0, 0],
      [3.2, 17.9],
      [15, 2],
    ] as const) {
      const q = imageToRoi(
        { ...g, rotationDeg: -8 },
        roiToImage({ ...g, rotationDeg: -8 }, u, v).x,
        roiToImage({ ...g, rotationDeg: -8 }, u, v).y,
      );
      expect(q.u).toBeCloseTo(u, 9);
      expect(q.v).toBeCloseTo(v, 9);
    }
    // Sampling a gradient image: each input pixel holds the image value where roiToImage puts it.
    const w = 200;
    const h = 200;
    const img = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img[y * w + x] = x + 1000 * y;
    const turned = { ...g, rotationDeg: 8 };
    const crop = sampleRoi(img, w, h, turned);
    const at = roiToImage(turned, 5, 11);
    expect(crop[11 * g.W + 5]).toBeCloseTo(at.x + 1000 * at.y, 1);
  });
});

describe('orientations', () => {
  it('maps every orientation back to the stored pixels exactly', () => {
    const w = 5;
    const h = 3;
    const stored = Uint16Array.from({ length: w * h }, (_, i) => i);
    for (const o of ORIENTATIONS) {
      const up = uprightSize(w, h, o);
      const turned = orientPixels(stored, w, h, o);
      for (let Y = 0; Y < up.h; Y++) {
        for (let X = 0; X < up.w; X++) {
          const p = uprightToStored(o, w, h, X, Y);
          expect(turned[Y * up.w + X]).toBe(stored[p.y * w + p.x]);
        }
      }
    }
    // storedToUpright is the inverse, for every orientation and every pixel.
    for (const o of ORIENTATIONS) {
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const u = storedToUpright(o, w, h, x, y);
          expect(uprightToStored(o, w, h, u.x, u.y)).toEqual({ x, y });
        }
    }
    // Rotating the stored image by 90 degrees clockwise puts its top-left pixel at the top right.
    const r = orientPixels(stored, w, h, { rotate: 90, mirror: false });
    expect(r[h - 1]).toBe(0);
  });

  it('turns an image by a few degrees clockwise about its centre, and its points with it', () => {
    const w = 41;
    const h = 31;
    // A bright dot right of the centre: turned by 30° clockwise (y down) it moves down and left a little.
    const image = new Float32Array(w * h);
    image[15 * w + 30] = 1;
    const turned = turnPixels(image, w, h, 30);
    const q = turnPoint(30, w, h, 30, 15);
    expect(q.x).toBeCloseTo(20 + 10 * Math.cos(Math.PI / 6), 9);
    expect(q.y).toBeCloseTo(15 + 10 * Math.sin(Math.PI / 6), 9);
    // The dot's mass lands around the turned point (bilinear: spread over the four neighbours).
    let mass = 0;
    let mx = 0;
    let my = 0;
    turned.forEach((v, i) => {
      mass += v;
      mx += v * (i % w);
      my += v * Math.floor(i / w);
    });
    expect(mx / mass).toBeCloseTo(q.x, 0);
    expect(my / mass).toBeCloseTo(q.y, 0);
    // Turning back returns a point exactly; a turn of 0 keeps the image.
    const p = turnPoint(-30, w, h, q.x, q.y);
    expect(p.x).toBeCloseTo(30, 9);
    expect(p.y).toBeCloseTo(15, 9);
    const ramp = Float32Array.from({ length: w * h }, (_, i) => i);
    expect(Array.from(turnPixels(ramp, w, h, 0))).toEqual(Array.from(ramp));
  });
});

describe('metrics', () => {
  it('Spearman rank correlation, ties averaged', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(0.9486832981, 8);
  });

  it('names a point on another vertebra', () => {
    const truth: LandmarkSet = Object.fromEntries(
      LANDMARK_NAMES.map((n, i) => [n, imagePoint(SHAPE[i]![0], SHAPE[i]![1])]),
    );
    const pred: LandmarkSet = { ...truth, C3m: truth.C4m!, C2a: imagePoint(truth.C2a!.x + 10, truth.C2a!.y) };
    expect(onWrongVertebra(pred, truth, { rowMm: 0.1, colMm: 0.1 })).toEqual(['C3m']);
  });
});
