import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  adaptivePoolRanges,
  intensityTable,
  imageToRoi,
  letterboxArea,
  letterboxParams,
  letterboxToImage,
  roiToImage,
  roundHalfEven,
  sampleBilinear,
  sampleRoi,
  windowToUnit,
  zscoreInPlace,
} from '../../core/inference/index';
import { REPO_ROOT } from '../shared-data';
import { imageToLetterbox } from './helpers';

interface TorchReference {
  width: number;
  height: number;
  image: number[];
  pooled: { width: number; height: number; values: number[] };
  samples: { x: number; y: number; value: number }[];
}
const torchRef = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'test/fixtures/models/torch-reference.json'), 'utf8'),
) as TorchReference;

describe('letterbox-area (stage 1)', () => {
  it.each([
    // w, h, W, H -> rw, rh, ox, oy (hand computed from models/README.md)
    [1935, 2400, 128, 128, 103, 128, 12, 0], // k = 128/2400, 1935k = 103.2
    [2400, 1935, 128, 128, 128, 103, 0, 12],
    [100, 100, 64, 64, 64, 64, 0, 0],
    [30, 10, 64, 64, 64, 21, 0, 21], // k = 64/30, 10k = 21.33, oy = floor(43/2)
    [640, 480, 160, 96, 128, 96, 16, 0], // k = min(0.25, 0.2) = 0.2
  ])('a %ix%i image in a %ix%i input is resized to %ix%i at (%i, %i)', (w, h, W, H, rw, rh, ox, oy) => {
    expect(letterboxParams(w, h, W, H)).toEqual({ w, h, W, H, rw, rh, ox, oy });
  });

  it.each([
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [3.5, 4],
    [2.4999, 2],
    [2.5001, 3],
    [7, 7],
  ])('rounds %d to %d like Python (halves to even)', (value, expected) => expect(roundHalfEven(value)).toBe(expected));

  it('averages the source cells torch adaptive_avg_pool2d averages', () => {
    // n = 5 into m = 2: rows 0..2 and 2..4 (floor(i n / m) .. ceil((i + 1) n / m) - 1)
    const r = adaptivePoolRanges(5, 2);
    expect([...r.start]).toEqual([0, 2]);
    expect([...r.end]).toEqual([3, 5]);
  });

  it('area-resizes a 4x2 image into a 2x2 input with the padding row at the bottom', () => {
    const image = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const lb = letterboxParams(4, 2, 2, 2); // rw 2, rh 1, ox 0, oy 0
    expect([...letterboxArea(image, lb)]).toEqual([2.5, 4.5, 0, 0]);
  });

  it('matches torch adaptive_avg_pool2d on a random 11x7 image', () => {
    const { width: w, height: h, pooled } = torchRef;
    const out = letterboxArea(Float32Array.from(torchRef.image), {
      w,
      h,
      W: pooled.width,
      H: pooled.height,
      rw: pooled.width,
      rh: pooled.height,
      ox: 0,
      oy: 0,
    });
    out.forEach((v, i) => expect(v).toBeCloseTo(pooled.values[i]!, 6));
  });

  it.each([
    [0, 0],
    [1934, 2399],
    [967.3, 1200.8],
    [-0.5, -0.5],
  ])('maps image point (%d, %d) to the input and back', (x, y) => {
    const lb = letterboxParams(1935, 2400, 128, 128);
    const { u, v } = imageToLetterbox(lb, x, y);
    const back = letterboxToImage(lb, u, v);
    expect(back.x).toBeCloseTo(x, 9);
    expect(back.y).toBeCloseTo(y, 9);
  });

  it('maps the centre of the first resized cell to the centre of the area it averages', () => {
    // 1935x2400 -> 103x128: input (12, 0) covers image x 0..18.79, y 0..18.75; its centre is the area centre.
    const lb = letterboxParams(1935, 2400, 128, 128);
    const p = letterboxToImage(lb, 12, 0);
    expect(p.x).toBeCloseTo((0.5 * 1935) / 103 - 0.5, 9);
    expect(p.y).toBeCloseTo((0.5 * 2400) / 128 - 0.5, 9);
  });
});

describe('region of interest (stage 2)', () => {
  const grid = { cx: 500, cy: 800, W: 160, H: 160, sx: 3, sy: 3 }; // 0.3 mm/px input on a 0.1 mm/px image

  it('centres the region on (cx, cy): input (W-1)/2 is the centre', () => {
    expect(roiToImage(grid, 79.5, 79.5)).toEqual({ x: 500, y: 800 });
    expect(roiToImage(grid, 0, 0)).toEqual({ x: 500 - 79.5 * 3, y: 800 - 79.5 * 3 });
  });

  it('maps a point into the region and back', () => {
    const { u, v } = imageToRoi(grid, 431.7, 902.2);
    const back = roiToImage(grid, u, v);
    expect(back.x).toBeCloseTo(431.7, 9);
    expect(back.y).toBeCloseTo(902.2, 9);
  });

  it('samples bilinearly with the edge repeated outside the image, like torch grid_sample (border)', () => {
    const image = Float32Array.from(torchRef.image);
    for (const s of torchRef.samples) {
      expect(sampleBilinear(image, torchRef.width, torchRef.height, s.x, s.y)).toBeCloseTo(s.value, 6);
    }
  });

  it('interpolates halfway between two pixels and repeats the nearest edge pixel outside', () => {
    const image = Float32Array.from([10, 20, 30, 40]); // 2x2
    expect(sampleBilinear(image, 2, 2, 0.5, 0)).toBeCloseTo(15, 9);
    expect(sampleBilinear(image, 2, 2, 0.5, 0.5)).toBeCloseTo(25, 9);
    expect(sampleBilinear(image, 2, 2, -0.5, 0)).toBeCloseTo(10, 9);
    expect(sampleBilinear(image, 2, 2, 0.5, -7)).toBeCloseTo(15, 9);
    expect(sampleBilinear(image, 2, 2, 5, 5)).toBe(40);
  });

  it('samples an image at scale 1 around its centre as the image itself', () => {
    const image = Float32Array.from({ length: 25 }, (_, i) => i);
    const out = sampleRoi(image, 5, 5, { cx: 2, cy: 2, W: 5, H: 5, sx: 1, sy: 1 });
    expect([...out]).toEqual([...image]);
  });
});

describe('intensity', () => {
  it('maps 8-bit values to value / 255 with the window {127.5, 255}', () => {
    const out = windowToUnit(Uint8Array.from([0, 51, 255]), { center: 127.5, width: 255 });
    expect([...out]).toEqual([0, Math.fround(51 / 255), 1]);
  });

  it('clamps values outside the window to 0 and 1', () => {
    expect([...windowToUnit(Uint16Array.from([0, 1000, 1500, 2000, 9000]), { center: 1500, width: 1000 })]).toEqual([
      0, 0, 0.5, 1, 1,
    ]);
  });

  it('reads integer pixels through a window table exactly as windowing them first', () => {
    const data = Uint16Array.from({ length: 37 * 23 }, (_, i) => (i * 2654435761) % 4096);
    const window = { center: 1800, width: 2500 };
    const table = intensityTable(window, 65536);
    const lb = letterboxParams(37, 23, 16, 16);
    expect([...letterboxArea(data, lb, table)]).toEqual([...letterboxArea(windowToUnit(data, window), lb)]);
    const grid = { cx: 18.3, cy: 9.7, W: 9, H: 7, sx: 1.7, sy: 1.7 };
    const a = sampleRoi(data, 37, 23, grid, table);
    const b = sampleRoi(windowToUnit(data, window), 37, 23, grid);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 6));
  });

  it('builds an 8-bit table that gives value / 255', () => {
    const table = intensityTable({ center: 127.5, width: 255 }, 256);
    expect(table[0]).toBe(0);
    expect(table[51]).toBe(Math.fround(51 / 255));
    expect(table[255]).toBe(1);
  });

  it('refuses a window of width 0', () => {
    expect(() => windowToUnit([1], { center: 0, width: 0 })).toThrow(/width/);
  });

  it('z-scores with the population standard deviation', () => {
    const t = zscoreInPlace(Float32Array.from([1, 2, 3, 4]));
    const sd = Math.sqrt(1.25) + 1e-6;
    [-1.5, -0.5, 0.5, 1.5].forEach((d, i) => expect(t[i]).toBeCloseTo(d / sd, 6));
  });

  it('leaves a constant tensor at zero instead of dividing by zero', () => {
    expect([...zscoreInPlace(Float32Array.from([3, 3, 3]))]).toEqual([0, 0, 0]);
  });
});
