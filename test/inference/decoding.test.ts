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
  orientPixels,
  parseDecoding,
  selectConfiguration,
  shapeDistance,
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
    const c = heatmapCandidates(hm, W, H, 0, 4, 3, 0.05);
    expect(c.map((x) => [Math.round(x.u), Math.round(x.v)])).toEqual([
      [10, 10],
      [30, 20],
    ]);
    expect(heatmapCandidates(hm, W, H, 0, 4, 3, 0.5)).toHaveLength(1);
  });

  it('expects a larger error from a wide, weak peak than from a sharp one', () => {
    const sharp = new Float32Array(W * H);
    blob(20, 15, 1, 1.2, sharp);
    const wide = new Float32Array(W * H);
    blob(20, 15, 0.3, 4, wide);
    blob(5, 5, 0.1, 3, wide);
    const e = decoding.expectedError;
    const a = expectedErrorMm(e, 'C3m', heatmapStats(sharp, W, H, 0, 20, 15, e, 0.35));
    const b = expectedErrorMm(e, 'C3m', heatmapStats(wide, W, H, 0, 20, 15, e, 0.35));
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a * 1.5);
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
    // Rotating the stored image by 90 degrees clockwise puts its top-left pixel at the top right.
    const r = orientPixels(stored, w, h, { rotate: 90, mirror: false });
    expect(r[h - 1]).toBe(0);
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
