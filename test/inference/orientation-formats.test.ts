/**
 * What clinics produce, through the real chain (file bytes -> decodeImageFile -> engine with the shipped
 * model -> landmarks in the stored image): the same cephalogram rotated by 90 and 180 degrees, mirrored,
 * as a 16-bit TIFF and at half resolution must give the same mean radial error within 0.1 mm; hands and
 * synthetic non-cephalograms must be refused as "not a lateral cephalogram" with no landmarks.
 * The variants are written as TIFF files by an independent writer with their own rotation code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisResult } from '../../core/api/analysis';
import type { OpenedImage, Spacing } from '../../core/api/image';
import type { LandmarkName, LandmarkSet } from '../../core/landmarks/index';
import { onWrongVertebra } from '../../core/metrics/index';
import { decodeImageFile } from '../../main/dicom/index';
import {
  analyzeOpened,
  enteredSpacing,
  InferenceEngine,
  pipelineImageOf,
  verifyModel,
} from '../../main/inference/index';
import { withExifOrientation } from '../dicom/helpers';
import { writeTiff } from '../dicom/tiff-writer';
import { edgeEnhanced } from '../device-exports';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const MODEL = path.join(REPO_ROOT, 'models', 'cvm13-unet');
const HAS_MODEL = existsSync(path.join(MODEL, 'decoding.json'));

type Pt = { x: number; y: number };
interface Grey {
  w: number;
  h: number;
  data: Uint16Array;
}

/** Stored image of a turned film: `turn` maps a pixel (x, y) of the original w x h to the turned image. */
function turned(
  src: Grey,
  kind: 'rot90' | 'rot180' | 'mirror',
): { img: Grey; map: (p: Pt) => Pt; back: (p: Pt) => Pt } {
  const { w, h } = src;
  const size = kind === 'rot90' ? { w: h, h: w } : { w, h };
  const map = (p: Pt): Pt =>
    kind === 'rot90'
      ? { x: h - 1 - p.y, y: p.x }
      : kind === 'rot180'
        ? { x: w - 1 - p.x, y: h - 1 - p.y }
        : { x: w - 1 - p.x, y: p.y };
  const back = (q: Pt): Pt =>
    kind === 'rot90'
      ? { x: q.y, y: h - 1 - q.x }
      : kind === 'rot180'
        ? { x: w - 1 - q.x, y: h - 1 - q.y }
        : { x: w - 1 - q.x, y: q.y };
  const data = new Uint16Array(size.w * size.h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const q = map({ x, y });
      data[q.y * size.w + q.x] = src.data[y * w + x]!;
    }
  return { img: { ...size, data }, map, back };
}

/**
 * The film tilted by `deg` (clockwise on screen) about its centre, on a canvas large enough to keep all of it
 * (nearest neighbour; the new corners are black), with the maps of points both ways.
 */
function tilted(src: Grey, deg: number): { img: Grey; back: (p: Pt) => Pt } {
  const a = (deg * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const w = Math.ceil(Math.abs(src.w * c) + Math.abs(src.h * s));
  const h = Math.ceil(Math.abs(src.w * s) + Math.abs(src.h * c));
  const [ocx, ocy, ncx, ncy] = [(src.w - 1) / 2, (src.h - 1) / 2, (w - 1) / 2, (h - 1) / 2];
  const back = (q: Pt): Pt => ({
    x: ocx + c * (q.x - ncx) + s * (q.y - ncy),
    y: ocy - s * (q.x - ncx) + c * (q.y - ncy),
  });
  const data = new Uint16Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = back({ x, y });
      const px = Math.round(p.x);
      const py = Math.round(p.y);
      if (px >= 0 && py >= 0 && px < src.w && py < src.h) data[y * w + x] = src.data[py * src.w + px]!;
    }
  return { img: { w, h, data }, back };
}

function halfResolution(src: Grey): Grey {
  const w = Math.floor(src.w / 2);
  const h = Math.floor(src.h / 2);
  const data = new Uint16Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = 2 * y * src.w + 2 * x;
      data[y * w + x] = Math.round(
        (src.data[i]! + src.data[i + 1]! + src.data[i + src.w]! + src.data[i + src.w + 1]!) / 4,
      );
    }
  return { w, h, data };
}

/** Each pixel repeated k x k times (a film digitised at k times the resolution): x_orig = (x - (k - 1) / 2) / k. */
function enlarged(src: Grey, k: number): Grey {
  const w = src.w * k;
  const data = new Uint16Array(w * src.h * k);
  for (let y = 0; y < src.h * k; y++) {
    const row = Math.floor(y / k) * src.w;
    for (let x = 0; x < w; x++) data[y * w + x] = src.data[row + Math.floor(x / k)]!;
  }
  return { w, h: src.h * k, data };
}

/** The part x0..x0 + w, y0..y0 + h of an image (a collimated or cropped film). */
function cropped(src: Grey, x0: number, y0: number, w: number, h: number): Grey {
  const data = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) data.set(src.data.subarray((y0 + y) * src.w + x0, (y0 + y) * src.w + x0 + w), y * w);
  return { w, h, data };
}

/** The image in the middle of a black canvas `k` times as large (a film scanned on a larger bed). */
function onCanvas(src: Grey, k: number): { img: Grey; x0: number; y0: number } {
  const w = Math.round(src.w * k);
  const h = Math.round(src.h * k);
  const x0 = Math.floor((w - src.w) / 2);
  const y0 = Math.floor((h - src.h) / 2);
  const data = new Uint16Array(w * h);
  for (let y = 0; y < src.h; y++) data.set(src.data.subarray(y * src.w, (y + 1) * src.w), (y0 + y) * w + x0);
  return { img: { w, h, data }, x0, y0 };
}

/** One image of ../shared/data/cvm13/annotations.json. */
interface AnnotatedImage {
  image: string;
  points: Record<string, [number, number]>;
  filled_from_prediction: string[];
}

const tiff8 = (g: Grey): Uint8Array =>
  writeTiff([{ width: g.w, height: g.h, bits: 8, data: Uint8Array.from(g.data, (v) => v), compression: 8 }]);

describe.skipIf(!HAS_MODEL || !HAS_SHARED_DATA)('orientations, formats and resolutions of one cephalogram', () => {
  let engine: InferenceEngine;
  const truthFile = HAS_SHARED_DATA
    ? (JSON.parse(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8')) as {
        images: Record<string, AnnotatedImage>;
      })
    : null;
  beforeAll(async () => {
    engine = await InferenceEngine.start({ model: verifyModel(MODEL), providers: ['cpu'] });
  }, 60_000);
  afterAll(async () => {
    await engine.close();
  });

  const mre = (r: AnalysisResult, id: string, toOriginal: (p: Pt) => Pt, mmPerPx: number): number => {
    const t = truthFile!.images[id]!;
    const errs = r.prediction.landmarks
      .filter((l) => !t.filled_from_prediction.includes(l.name))
      .map((l) => {
        const p = toOriginal(l);
        return Math.hypot(p.x - t.points[l.name]![0], p.y - t.points[l.name]![1]) * mmPerPx;
      });
    expect(errs).toHaveLength(13 - t.filled_from_prediction.length);
    return errs.reduce((a, b) => a + b, 0) / errs.length;
  };

  /** An annotated cephalogram as decoded, its error upright at 0.1 mm per pixel, and its grey values as stored. */
  const original = async (id: string): Promise<{ opened: OpenedImage; spacing: Spacing; base: number; grey: Grey }> => {
    const t = truthFile!.images[id]!;
    const file = path.resolve(sharedPath('cvm13'), t.image);
    const opened = await decodeImageFile(path.basename(file), readFileSync(file));
    const spacing = enteredSpacing(0.1, 'test');
    const base = mre(await analyzeOpened(engine, opened, { spacing }), id, (p) => p, 0.1);
    // Grey values as stored (8-bit JPEG: value * 257).
    const grey: Grey = {
      w: opened.pixels.width,
      h: opened.pixels.height,
      data: Uint16Array.from(opened.pixels.data, (v) => Math.round(v / 257)),
    };
    return { opened, spacing, base, grey };
  };

  /**
   * `check` with the model of `fold`, which must have held image `id` out (its manifest says so), on the image's
   * grey values as stored.
   */
  /** No landmark of an upright image's result on another vertebra, and its mean error under 1 mm (0.1 mm per pixel). */
  const expectOnItsVertebrae = (r: AnalysisResult, t: AnnotatedImage, id: string): void => {
    const truth = Object.fromEntries(Object.entries(t.points).map(([name, [x, y]]) => [name, { x, y }])) as LandmarkSet;
    const predicted = Object.fromEntries(r.prediction.landmarks.map((l) => [l.name, l])) as LandmarkSet;
    const skip = t.filled_from_prediction as LandmarkName[];
    expect(onWrongVertebra(predicted, truth, { rowMm: 0.1, colMm: 0.1 }, skip)).toEqual([]);
    expect(mre(r, id, (p) => p, 0.1)).toBeLessThan(1);
  };

  const withHeldOutModel = async (
    id: string,
    fold: string,
    check: (foldEngine: InferenceEngine, grey: Grey, t: AnnotatedImage) => Promise<void>,
  ): Promise<void> => {
    const folder = path.join(MODEL, 'folds', fold);
    const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as {
      training: { heldOut: string[] };
    };
    expect(manifest.training.heldOut).toContain(id);
    const foldEngine = await InferenceEngine.start({ model: verifyModel(folder), providers: ['cpu'] });
    try {
      const t = truthFile!.images[id]!;
      const file = path.resolve(sharedPath('cvm13'), t.image);
      const opened = await decodeImageFile(path.basename(file), readFileSync(file));
      const grey: Grey = {
        w: opened.pixels.width,
        h: opened.pixels.height,
        data: Uint16Array.from(opened.pixels.data, (v) => Math.round(v / 257)),
      };
      await check(foldEngine, grey, t);
    } finally {
      await foldEngine.close();
    }
  };

  for (const id of ['001']) {
    it(`image ${id}: rotated 90/180, mirrored, 16-bit TIFF and half resolution within 0.1 mm of the original`, async () => {
      const t = truthFile!.images[id]!;
      const file = path.resolve(sharedPath('cvm13'), t.image);
      const opened = await decodeImageFile(path.basename(file), readFileSync(file));
      const spacing = enteredSpacing(0.1, 'test');
      const original = await analyzeOpened(engine, opened, { spacing });
      expect(original.prediction.orientation.corrected).toBe(false);
      const base = mre(original, id, (p) => p, 0.1);
      expect(base).toBeLessThan(1.5);
      // Grey values as stored (8-bit JPEG: value * 257).
      const grey: Grey = {
        w: opened.pixels.width,
        h: opened.pixels.height,
        data: Uint16Array.from(opened.pixels.data, (v) => Math.round(v / 257)),
      };

      for (const kind of ['rot90', 'rot180', 'mirror'] as const) {
        const v = turned(grey, kind);
        const o = await decodeImageFile(`${id}-${kind}.tif`, tiff8(v.img));
        const r = await analyzeOpened(engine, o, { spacing });
        expect(r.prediction.orientation.corrected, kind).toBe(true);
        expect(r.summary).toMatch(/rotated|mirrored/);
        expect(Math.abs(mre(r, id, v.back, 0.1) - base), kind).toBeLessThan(0.1);
      }

      // 16-bit TIFF with 12-bit values (a scanner's export), big-endian, LZW.
      const data16 = Uint16Array.from(grey.data, (v) => Math.round((v * 4095) / 255));
      const o16 = await decodeImageFile(
        `${id}.tif`,
        writeTiff([{ width: grey.w, height: grey.h, bits: 16, data: data16, compression: 5, rowsPerStrip: 64 }], false),
      );
      expect(o16.info).toMatchObject({ format: 'tiff', bitsStored: 16 });
      const r16 = await analyzeOpened(engine, o16, { spacing });
      expect(Math.abs(mre(r16, id, (p) => p, 0.1) - base)).toBeLessThan(0.1);

      // Half resolution (0.2 mm per pixel): pixel centres map back as x_full = 2 x + 0.5.
      const half = halfResolution(grey);
      const oh = await decodeImageFile(`${id}-half.tif`, tiff8(half));
      const rh = await analyzeOpened(engine, oh, { spacing: enteredSpacing(0.2, 'test') });
      const fromHalf = (p: Pt): Pt => ({ x: 2 * p.x + 0.5, y: 2 * p.y + 0.5 });
      expect(Math.abs(mre(rh, id, fromHalf, 0.1) - base)).toBeLessThan(0.1);
      expect(rh.prediction.quality.problems.join(' ')).not.toMatch(/stated pixel spacing/);
      // The same half-resolution image with the full resolution's spacing stated (resampled without updating it):
      // stage 2 crops at the vertebrae's own scale, and the result asks to check the spacing.
      const wrong = await analyzeOpened(engine, oh, { spacing });
      expect(wrong.prediction.roiScale.estimated).toBe(true);
      expect(wrong.prediction.quality.verdict).toBe('uncertain');
      expect(wrong.prediction.quality.problems.join(' ')).toMatch(
        /The stated pixel spacing \(0\.100 mm\/px\) makes C3 and C4 \d\d% of their usual size .*check the spacing/,
      );
      expect(Math.abs(mre(wrong, id, fromHalf, 0.1) - base)).toBeLessThan(0.2);
    }, 120_000);
  }

  it('a JPEG stored sideways with an Exif Orientation is read as viewers show it: upright, no turn needed, the same landmarks', async () => {
    const t = truthFile!.images['001']!;
    const file = path.resolve(sharedPath('cvm13'), t.image);
    const { base } = await original('001');
    // libjpeg-turbo's jpegtran turns the JPEG's blocks without decoding them (the film's 2400 rows are whole
    // blocks, so nothing is trimmed); Exif Orientation 8 then says "turn 90° anticlockwise to show".
    const sideways = new Uint8Array(execFileSync('jpegtran', ['-rotate', '90', '-trim', file]));
    const tagged = withExifOrientation(sideways, 8);
    const asStored = await decodeImageFile('001-sideways.jpg', sideways);
    const opened = await decodeImageFile('001-exif8.jpg', tagged);
    expect([asStored.pixels.width, asStored.pixels.height]).toEqual([2400, 1935]);
    expect([opened.pixels.width, opened.pixels.height]).toEqual([1935, 2400]);
    const r = await analyzeOpened(engine, opened, { spacing: enteredSpacing(0.1, 'test') });
    expect(r.prediction.orientation.corrected).toBe(false);
    expect(Math.abs(mre(r, '001', (p) => p, 0.1) - base)).toBeLessThan(0.1);
  }, 60_000);

  it('a film digitised at three times the resolution (0.033 mm/px) but stated at 0.1 mm/px is staged, with a spacing check', async () => {
    // The vertebrae then suggest about 0.025 mm/px (ISBI 001's estimate runs 25% low). Believed only from 0.04 mm/px
    // up, that estimate was dropped for the field height, the crop was taken at the stated scale and the image failed
    // as "not shaped like C2-C4".
    const id = '001';
    const { spacing, base, grey } = await original(id);
    const big = enlarged(grey, 3);
    const r = await analyzeOpened(engine, await decodeImageFile(`${id}-x3.tif`, tiff8(big)), { spacing });
    expect(r.prediction.quality.verdict).toBe('uncertain');
    expect(r.prediction.quality.problems.join(' ')).toMatch(
      /The stated pixel spacing \(0\.100 mm\/px\) makes C3 and C4 \d\.\d times their usual size .*check the spacing/,
    );
    const back = (p: Pt): Pt => ({ x: (p.x - 1) / 3, y: (p.y - 1) / 3 });
    expect(Math.abs(mre(r, id, back, 0.1) - base)).toBeLessThan(0.2);
  }, 120_000);

  it('a column tilted 25° further either way (a flexed or extended head, a film scanned askew), facing right or left, is found under a small turn', async () => {
    const id = '001';
    const { spacing, base, grey } = await original(id);
    for (const deg of [25, -25]) {
      const v = tilted(grey, deg);
      const r = await analyzeOpened(engine, await decodeImageFile(`${id}-tilt${deg}.tif`, tiff8(v.img)), { spacing });
      expect(r.prediction.recognition.lateralCephalogram, `${deg}°`).toBe(true);
      // Turned back by a tried turn against the tilt, and said so.
      const turn = r.prediction.orientation.turnDeg ?? 0;
      expect(Math.sign(turn), `${deg}°`).toBe(-Math.sign(deg));
      expect([15, 30], `${deg}°`).toContain(Math.abs(turn));
      expect(r.summary).toMatch(/looked at turned by (15|30)°/);
      expect(r.prediction.anatomy?.plausible, `${deg}°`).toBe(true);
      expect(mre(r, id, v.back, 0.1) - base, `${deg}°`).toBeLessThan(0.3);
    }
    // Facing left and tilted: mirrored first, then turned.
    const m = turned(grey, 'mirror');
    const v = tilted(m.img, 25);
    const r = await analyzeOpened(engine, await decodeImageFile(`${id}-mirror-tilt25.tif`, tiff8(v.img)), { spacing });
    expect(r.prediction.orientation).toMatchObject({ rotate: 0, mirror: true, corrected: true });
    expect(Math.abs(r.prediction.orientation.turnDeg ?? 0)).toBeGreaterThan(0);
    expect(r.summary).toMatch(/mirrored left-right .*, then looked at turned by/);
    expect(mre(r, id, (p) => m.back(v.back(p)), 0.1) - base).toBeLessThan(0.3);
  }, 120_000);

  it('a smaller field of view (the lower-left part around the spine) and a film on a larger canvas give the same landmarks', async () => {
    const id = '001';
    const { spacing, base, grey } = await original(id);
    // The lower 55% of the film and its left 65%: the column about 1.8 times as large in stage 1's input.
    const x0 = 0;
    const y0 = Math.round(grey.h * 0.45);
    const part = cropped(grey, x0, y0, Math.round(grey.w * 0.65), grey.h - y0);
    const rc = await analyzeOpened(engine, await decodeImageFile(`${id}-lower-left.tif`, tiff8(part)), { spacing });
    expect(rc.prediction.recognition.lateralCephalogram).toBe(true);
    expect(mre(rc, id, (p) => ({ x: p.x + x0, y: p.y + y0 }), 0.1) - base).toBeLessThan(0.3);
    // The whole film in the middle of a black canvas 1.5 times as large: the column two thirds as large.
    const canvas = onCanvas(grey, 1.5);
    const rk = await analyzeOpened(engine, await decodeImageFile(`${id}-canvas.tif`, tiff8(canvas.img)), { spacing });
    expect(rk.prediction.recognition.lateralCephalogram).toBe(true);
    expect(mre(rk, id, (p) => ({ x: p.x - canvas.x0, y: p.y - canvas.y0 }), 0.1) - base).toBeLessThan(0.3);
  }, 120_000);

  it('a washed-out scan (the grey values squeezed into 30% of the range around mid-grey) gives the same landmarks', async () => {
    const id = '001';
    const { opened, spacing, base, grey } = await original(id);
    expect(pipelineImageOf(opened).window.width).toBe(65536); // as stored
    const washed: Grey = { ...grey, data: Uint16Array.from(grey.data, (v) => Math.round(89 + 0.3 * v)) };
    const o = await decodeImageFile(`${id}-washed.tif`, tiff8(washed));
    // The model reads it under its automatic window, not as stored.
    expect(pipelineImageOf(o).window.width).toBeLessThan(0.5 * 65536);
    const r = await analyzeOpened(engine, o, { spacing });
    expect(Math.abs(mre(r, id, (p) => p, 0.1) - base)).toBeLessThan(0.1);
  }, 120_000);

  it('an edge-enhanced export whose first look puts C3-C4 on the wrong vertebrae gets a second look (image 389, by the fold model that held it out)', async () => {
    // Unsharp-masked as digital cephalostats export their images (sigma 2 mm, gain 2.5), this film's column is found
    // clearly upright, but stage 2 puts C3-C4 10-14 mm off in a shape unlike C2-C4 (verdict "failed"). The pipeline
    // now looks again with that look left out, and takes the one under a small turn whose shape is plausible.
    await withHeldOutModel('389', 'fold1', async (foldEngine, grey, t) => {
      const sharp: Grey = { ...grey, data: edgeEnhanced(grey.data, grey.w, grey.h, 20, 2.5, 255) };
      const r = await analyzeOpened(foldEngine, await decodeImageFile('389-edge-enhanced.tif', tiff8(sharp)), {
        spacing: enteredSpacing(0.1, 'test'),
      });
      expect(r.prediction.anatomy?.plausible).toBe(true);
      expect(r.prediction.orientation.detail).toMatch(/the first look, .*, gave landmarks not shaped like C2-C4/);
      expectOnItsVertebrae(r, t, '389');
    });
  }, 120_000);

  it('edge-enhanced exports read as well as the films as stored (images 224 and 240, by the fold model that held them out)', async () => {
    // Unsharp-masked (sigma 2 mm, gain 2.5), these films' landmarks were 0.12-0.17 mm further off on average with
    // model 1.2.0, whose stage-2 networks never saw processed films; 1.3.0's members 2 and 3 learnt them.
    for (const id of ['224', '240']) {
      await withHeldOutModel(id, 'fold1', async (foldEngine, grey, t) => {
        const spacing = enteredSpacing(0.1, 'test');
        const asStored = await analyzeOpened(foldEngine, await decodeImageFile(`${id}.tif`, tiff8(grey)), { spacing });
        const sharp: Grey = { ...grey, data: edgeEnhanced(grey.data, grey.w, grey.h, 20, 2.5, 255) };
        const r = await analyzeOpened(foldEngine, await decodeImageFile(`${id}-edge-enhanced.tif`, tiff8(sharp)), {
          spacing,
        });
        expectOnItsVertebrae(r, t, id);
        expect(mre(r, id, (p) => p, 0.1) - mre(asStored, id, (p) => p, 0.1), id).toBeLessThan(0.08);
      });
    }
  }, 120_000);

  it('an inverted export whose every look gives landmarks unlike C2-C4 is looked at as its negative (image 059, by the fold model that held it out)', async () => {
    // Grey levels inverted (bone dark: a MONOCHROME1 image written as shown), this film's first look put C4 on the
    // wrong vertebra (verdict "failed") and no other orientation or turn gave a plausible shape. The negative of
    // the image is tried last; its landmarks are taken, and the image says "check" with the reason.
    await withHeldOutModel('059', 'fold4', async (foldEngine, grey, t) => {
      const negative: Grey = { ...grey, data: grey.data.map((v) => 255 - v) };
      const r = await analyzeOpened(foldEngine, await decodeImageFile('059-inverted.tif', tiff8(negative)), {
        spacing: enteredSpacing(0.1, 'test'),
      });
      expect(r.prediction.anatomy?.plausible).toBe(true);
      expect(r.prediction.quality.verdict).toBe('uncertain');
      expect(r.prediction.quality.problems[0]).toMatch(/found in the negative of the image/);
      expect(r.prediction.orientation.detail).toMatch(/grey levels inverted/);
      expectOnItsVertebrae(r, t, '059');
    });
  }, 120_000);

  it('a film that ends just below C4 keeps C4 on its vertebra; one that ends inside C4 gives no stage (image 386, by the fold model that held it out)', async () => {
    // The stage-2 crop reaches past the bottom of such a film. Filled with black there (before 2026-12-03) it put
    // this film's C3-C4 points 2.5-9 mm off, 7 of them nearer C5 or C2 ("failed"); the edge repeated, they are
    // found. Cut through C4, the lower border is not in the image: its points would lie outside it, and no stage.
    await withHeldOutModel('386', 'fold3', async (foldEngine, grey, t) => {
      const spacing = enteredSpacing(0.1, 'test');
      const c4Lower = Math.max(...(['C4lp', 'C4m', 'C4la'] as const).map((n) => t.points[n]![1]));
      const c4Upper = Math.min(t.points.C4up![1], t.points.C4ua![1]);
      const below = cropped(grey, 0, 0, grey.w, Math.round(c4Lower + 20));
      const r = await analyzeOpened(foldEngine, await decodeImageFile('386-ends-below-c4.tif', tiff8(below)), {
        spacing,
      });
      expect(r.prediction.quality.verdict).not.toBe('failed');
      expectOnItsVertebrae(r, t, '386');
      const through = cropped(grey, 0, 0, grey.w, Math.round((c4Lower + c4Upper) / 2));
      const cut = await analyzeOpened(foldEngine, await decodeImageFile('386-ends-in-c4.tif', tiff8(through)), {
        spacing,
      });
      expect(cut.prediction.quality.verdict).toBe('failed');
      expect(cut.prediction.quality.problems.join(' ')).toMatch(/C2-C4 are cut off by the image border: .*C4/);
    });
  }, 120_000);

  it('a left-facing cephalogram whose stored view looks faintly like a column is still mirrored (image 274, by the fold model that held it out)', async () => {
    // Fold 3's model finds a faint, plausible-looking column in the stored view of this mirrored film (mean
    // stage-1 peak 0.17): taken as it was, every landmark landed off the vertebrae. A weak look is now compared
    // with the other orientations.
    await withHeldOutModel('274', 'fold3', async (foldEngine, grey) => {
      const v = turned(grey, 'mirror');
      const r = await analyzeOpened(foldEngine, await decodeImageFile('274-mirror.tif', tiff8(v.img)), {
        spacing: enteredSpacing(0.1, 'test'),
      });
      expect(r.prediction.orientation).toMatchObject({ rotate: 0, mirror: true, corrected: true });
      expect(r.prediction.quality.verdict).not.toBe('failed');
      expect(mre(r, '274', v.back, 0.1)).toBeLessThan(1);
    });
  }, 120_000);

  it('refuses hands and synthetic non-cephalograms before drawing any landmark', async () => {
    const hands = ['7034.png', '7035.png', '14931.png'].map((f) => sharedPath('boneage', 'rsna-sample', f));
    const openedHands = await Promise.all(hands.map(async (f) => decodeImageFile(path.basename(f), readFileSync(f))));
    // Synthetic: noise, a smooth gradient, a uniform image, and a wide "panoramic" of bright arcs.
    const synth = (w: number, h: number, f: (x: number, y: number) => number): Uint8Array => {
      const d = new Uint8Array(w * h);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) d[y * w + x] = Math.max(0, Math.min(255, Math.round(f(x, y))));
      return writeTiff([{ width: w, height: h, bits: 8, data: d }]);
    };
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const synthetic = [
      ['noise', synth(900, 1100, () => rnd() * 255)],
      ['gradient', synth(1000, 1200, (x, y) => (x + y) / 9)],
      ['uniform', synth(800, 1000, () => 128)],
      [
        'panoramic',
        synth(
          2400,
          1200,
          (x, y) =>
            60 + 150 * Math.exp(-(((Math.hypot(x - 1200, (y - 1500) * 1.6) - 1000) / 60) ** 2)) + 40 * Math.sin(x / 37),
        ),
      ],
    ] as const;
    const openedSynth = await Promise.all(synthetic.map(async ([n, b]) => decodeImageFile(`${n}.tif`, b)));
    for (const o of [...openedHands, ...openedSynth]) {
      const r = await analyzeOpened(engine, o);
      expect(r.prediction.recognition.lateralCephalogram, o.info.fileName).toBe(false);
      expect(r.prediction.landmarks).toEqual([]);
      expect(r.prediction.quality.verdict).toBe('failed');
      expect(r.stageCertain).toBe(false);
      expect(r.summary).toMatch(/^Not a lateral cephalogram/);
    }
  }, 120_000);
});
