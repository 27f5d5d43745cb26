/**
 * The engine with real ONNX sessions on the tiny test model, whose two stages copy their input into all
 * 13 heatmaps: a bright spot must come back as every landmark at the spot's centre, which checks the whole
 * chain (letterbox, region of interest, peaks, mapping back to image pixels) end to end.
 */
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../core/inference/index';
import { decodeImageFile } from '../../main/dicom/index';
import {
  analyzeOpened,
  findModels,
  InferenceEngine,
  ModelError,
  pickModel,
  runBatch,
  verifyModel,
  type EngineEvent,
} from '../../main/inference/index';
import { createStageSession } from '../../main/inference/sessions';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { spotImage, TINY_MODEL_DIR, tinyModelCopy } from './helpers';

describe('model registry', () => {
  it('accepts the tiny model and records its hashes', () => {
    const m = verifyModel(TINY_MODEL_DIR);
    expect(m.manifest.id).toBe('tiny');
    expect(m.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.files.locate).toBe(path.join(TINY_MODEL_DIR, 'locate.onnx'));
  });

  it('refuses a model whose ONNX file does not match the sha256 of its manifest', () => {
    const dir = tinyModelCopy();
    appendFileSync(path.join(dir, 'locate.onnx'), Buffer.from([0]));
    expect(() => verifyModel(dir)).toThrow(
      /locate\.onnx does not match its manifest: sha256 is [0-9a-f]{64}, manifest\.json says 2735bb72/,
    );
  });

  it('refuses a model with a missing file, naming it', () => {
    const dir = tinyModelCopy();
    rmSync(path.join(dir, 'refine.onnx'));
    expect(() => verifyModel(dir)).toThrow(ModelError);
    expect(() => verifyModel(dir)).toThrow(/refine\.onnx \(stage refine of model "tiny"\) is missing/);
  });

  it('refuses a manifest that is not JSON', () => {
    const dir = tinyModelCopy();
    writeFileSync(path.join(dir, 'manifest.json'), '{ "id": ');
    expect(() => verifyModel(dir)).toThrow(/manifest\.json is not valid JSON/);
  });

  it('lists refused models with the reason and picks a valid one as default', () => {
    const good = tinyModelCopy();
    const bad = tinyModelCopy();
    appendFileSync(path.join(bad, 'refine.onnx'), Buffer.from([1]));
    const listing = findModels([
      { dir: path.dirname(good), source: 'app' },
      { dir: path.dirname(bad), source: 'user' },
    ]);
    expect(listing.models.map((m) => m.dir)).toEqual([good]);
    expect(listing.refused).toHaveLength(1);
    expect(listing.refused[0]!.reason).toMatch(/refine\.onnx does not match its manifest/);
    expect(pickModel(listing).dir).toBe(good);
    expect(() => pickModel(listing, 'cvm13-unet')).toThrow(
      /Model "cvm13-unet" is not available \(valid models: tiny\)/,
    );
  });

  it('refuses at start a model whose graph does not have the input shape its manifest declares', async () => {
    const dir = tinyModelCopy();
    const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    m.stages.locate.input.shape = [1, 1, 32, 32];
    m.stages.locate.output.shape = [1, 13, 32, 32];
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
    const model = verifyModel(dir); // the files match their hashes; the graph is checked by ONNX Runtime
    await expect(InferenceEngine.start({ model, providers: ['cpu'] })).rejects.toThrow(
      /locate\.onnx declares input "image" as \[1, 1, 64, 64\], the manifest says \[1, 1, 32, 32\]/,
    );
  });

  it('refuses at start a model whose input is named differently from its manifest', async () => {
    const dir = tinyModelCopy();
    const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    m.stages.refine.input.name = 'pixels';
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
    await expect(InferenceEngine.start({ model: verifyModel(dir), providers: ['cpu'] })).rejects.toThrow(ModelError);
  });

  it('refuses at start a graph rewritten after the check: the worker gets the bytes that were hashed', async () => {
    const dir = tinyModelCopy();
    const model = verifyModel(dir);
    const file = path.join(dir, 'refine.onnx');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1]! ^= 0x01; // same size, other bytes
    writeFileSync(file, bytes);
    await expect(InferenceEngine.start({ model, providers: ['cpu'] })).rejects.toThrow(
      /refine\.onnx changed since it was checked: sha256 is [0-9a-f]{64}, manifest says /,
    );
  });
});

describe('execution providers', () => {
  it('falls back to the CPU when CUDA cannot be loaded, and says why', async () => {
    const model = verifyModel(TINY_MODEL_DIR);
    const spec = parseManifest(JSON.parse(readFileSync(path.join(TINY_MODEL_DIR, 'manifest.json'), 'utf8'))).stages
      .locate;
    const s = await createStageSession(readFileSync(model.files.locate), spec, ['cuda', 'cpu']);
    try {
      expect(s.provider.requested).toEqual(['cuda', 'cpu']);
      if (s.provider.used === 'cuda') {
        // A machine with a working CUDA provider: it must also be what ran.
        expect(s.provider.placement).toContain('CUDAExecutionProvider');
        expect(s.provider.fallbackReason).toBeNull();
      } else {
        expect(s.provider.placement).toEqual(['CPUExecutionProvider']);
        expect(s.provider.fallbackReason).toMatch(/^cuda: /);
      }
    } finally {
      await s.session.release();
    }
  });

  it('reports the CPU as first choice without a fallback reason when only the CPU is asked for', async () => {
    const model = verifyModel(TINY_MODEL_DIR);
    const spec = model.manifest.stages.refine;
    const s = await createStageSession(readFileSync(model.files.refine), spec, ['cpu']);
    expect(s.provider).toEqual({
      requested: ['cpu'],
      used: 'cpu',
      placement: ['CPUExecutionProvider'],
      fallbackReason: null,
    });
    await s.session.release();
  });
});

describe('engine', () => {
  let engine: InferenceEngine;
  const events: EngineEvent[] = [];

  beforeAll(async () => {
    engine = await InferenceEngine.start({
      model: verifyModel(TINY_MODEL_DIR),
      providers: ['cpu'],
      onEvent: (e) => events.push(e),
    });
  });
  afterAll(async () => {
    await engine.close();
  });

  it.each([
    [300, 500, 120.3, 310.7, { rowMm: 0.2, colMm: 0.2 }],
    [640, 220, 500.8, 101.2, { rowMm: 0.15, colMm: 0.15 }],
    [257, 257, 128.5, 40.25, { rowMm: 0.1, colMm: 0.2 }],
  ])('finds a spot in a %ix%i image at (%d, %d) through both stages', async (w, h, cx, cy, spacing) => {
    const p = await engine.analyze(spotImage(w, h, cx, cy, 12), spacing);
    expect(p.landmarks).toHaveLength(13);
    for (const l of p.landmarks) {
      expect(Math.hypot(l.stage1.x - cx, l.stage1.y - cy)).toBeLessThan(1);
      expect(Math.hypot(l.x - cx, l.y - cy)).toBeLessThan(0.1);
    }
    expect(p.roiScale).toMatchObject({ mmPerPixelX: spacing.colMm, mmPerPixelY: spacing.rowMm, estimated: false });
    expect(p.model).toMatchObject({ id: 'tiny', version: '0.0.1' });
    expect(p.provider.used).toBe('cpu');
  });

  it('estimates the scale of an uncalibrated image and says so', async () => {
    const p = await engine.analyze(spotImage(300, 480, 150, 200, 10), null);
    expect(p.roiScale.estimated).toBe(true);
    expect(p.roiScale.detail).toMatch(/^estimated /);
    expect(Math.hypot(p.landmarks[0]!.x - 150, p.landmarks[0]!.y - 200)).toBeLessThan(0.1);
  });

  it('refuses an image whose pixel count does not match its size', async () => {
    const bad = { ...spotImage(10, 10, 5, 5, 2), width: 11 };
    await expect(engine.analyze(bad, null)).rejects.toThrow(/has 100 pixels, expected 11x10/);
  });

  it('fails the request in flight when the worker crashes, restarts the worker and serves the next one', async () => {
    const restartsBefore = engine.restarts;
    engine.crashWorker();
    await expect(engine.analyze(spotImage(100, 100, 50, 50, 5), null)).rejects.toThrow(
      /inference worker crashed while analysing image/,
    );
    const p = await engine.analyze(spotImage(100, 100, 40, 60, 5), { rowMm: 0.3, colMm: 0.3 });
    expect(Math.hypot(p.landmarks[5]!.x - 40, p.landmarks[5]!.y - 60)).toBeLessThan(0.1);
    expect(engine.restarts).toBe(restartsBefore + 1);
    expect(events.map((e) => e.kind)).toEqual(['worker-crashed', 'worker-restarted']);
  });

  it("keeps the caller's pixels: the worker gets a copy, the same image analysed twice gives the same answer", async () => {
    const image = spotImage(200, 160, 70.5, 90.25, 6);
    const before = image.data.slice();
    const first = await engine.analyze(image, { rowMm: 0.2, colMm: 0.2 });
    expect(image.data.length).toBe(200 * 160); // not detached by the transfer
    expect(image.data).toEqual(before);
    const second = await engine.analyze(image, { rowMm: 0.2, colMm: 0.2 });
    expect(second.landmarks).toEqual(first.landmarks);
    expect(Math.hypot(first.landmarks[3]!.x - 70.5, first.landmarks[3]!.y - 90.25)).toBeLessThan(0.1);
  });

  it('warms up each network twice between queued analyses; a closed engine refuses a warm-up', async () => {
    const [first, warm, second] = await Promise.all([
      engine.analyze(spotImage(100, 100, 30, 60, 5), { rowMm: 0.3, colMm: 0.3 }),
      engine.warmUp(),
      engine.analyze(spotImage(100, 100, 60, 30, 5), { rowMm: 0.3, colMm: 0.3 }),
    ]);
    expect(warm.runs).toBe(4); // the tiny model: locate and refine, no ensemble member
    expect(first.landmarks[0]!.x).toBeCloseTo(30, 0);
    expect(second.landmarks[0]!.x).toBeCloseTo(60, 0);
    const closed = await InferenceEngine.start({ model: verifyModel(TINY_MODEL_DIR), providers: ['cpu'] });
    await closed.close();
    await expect(closed.warmUp()).rejects.toThrow(/the inference engine is closed/);
  });

  it('queues concurrent requests and answers each with its own image', async () => {
    const spots = [
      [30, 40],
      [70, 20],
      [50, 80],
    ] as const;
    const results = await Promise.all(
      spots.map(([x, y]) => engine.analyze(spotImage(100, 100, x, y, 5), { rowMm: 0.3, colMm: 0.3 })),
    );
    results.forEach((p, i) => {
      expect(p.landmarks[0]!.x).toBeCloseTo(spots[i]![0], 0);
      expect(p.landmarks[0]!.y).toBeCloseTo(spots[i]![1], 0);
    });
  });

  it('stops a batch when cancelled: the image in progress finishes, no further image starts', async () => {
    const controller = new AbortController();
    const progress: (string | null)[] = [];
    const images = [20, 40, 60, 80, 90].map((x) => ({ label: `spot-${x}`, image: spotImage(100, 100, x, 50, 5) }));
    const outcome = await runBatch(
      images,
      (i) => i.label,
      (i) => engine.analyze(i.image, null, i.label),
      {
        signal: controller.signal,
        onProgress: (p) => progress.push(p.current),
        onItem: (r) => {
          if (r.label === 'spot-40') controller.abort();
        },
      },
    );
    expect(outcome.cancelled).toBe(true);
    expect(outcome.items.map((i) => i.label)).toEqual(['spot-20', 'spot-40']);
    expect(progress).toEqual(['spot-20', 'spot-40', null]);
  });
});

describe.skipIf(!HAS_SHARED_DATA)('real files through decode and the engine (tiny model)', () => {
  let engine: InferenceEngine;
  beforeAll(async () => {
    engine = await InferenceEngine.start({ model: verifyModel(TINY_MODEL_DIR), providers: ['cpu'] });
  });
  afterAll(async () => {
    await engine.close();
  });

  it.each([
    ['RG3_UNC.dcm', 'a MONOCHROME1 radiograph without spacing', true],
    ['RG2_JPLL.dcm', 'a JPEG-lossless radiograph with PixelSpacing', false],
  ])('analyses %s, %s: landmarks inside the image, or the image failed as cut off', async (name, _what, estimated) => {
    const opened = await decodeImageFile(name, readFileSync(sharedPath('dicom', 'wg04-cr', name)));
    const r = await analyzeOpened(engine, opened);
    const { width, height } = opened.pixels;
    expect(r.prediction.imageWidth).toBe(width);
    // The stage-2 crop repeats the image's edge outside it, where the tiny model's copied brightness can put a peak:
    // a landmark beyond the image then fails the image as cut off, never passes as one inside it.
    const beyond = r.prediction.landmarks.filter(
      (l) => !(l.x >= -0.5 && l.x <= width - 0.5 && l.y >= -0.5 && l.y <= height - 0.5),
    );
    if (beyond.length > 0) {
      expect(r.prediction.quality.verdict).toBe('failed');
      expect(r.prediction.quality.problems.join(' ')).toMatch(/cut off by the image border: .* would lie outside/);
    }
    expect(r.prediction.roiScale.estimated).toBe(estimated);
    expect(r.spacing === null).toBe(estimated);
    // The tiny model finds no vertebrae: the result must not be presented as a certain stage.
    expect(r.stageCertain).toBe(false);
  });
});
