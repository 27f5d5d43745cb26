/**
 * Parity with the Python implementation of models/README.md: the shipped model's landmarks from
 * main/inference must equal those from models/training/pipeline.py on the same ONNX files
 * (test/fixtures/models/parity.json, written by make_parity.py for one manifest).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../main/dicom/index';
import { analyzeOpened, enteredSpacing, InferenceEngine, verifyModel } from '../../main/inference/index';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

interface Parity {
  manifestSha256: string;
  /** The ONNX files the reference was computed with (a manifest change that keeps them keeps the reference valid). */
  locateSha256?: string;
  refineSha256?: string;
  spacingMm: number;
  landmarks: string[];
  images: Record<string, { stage1: [number, number][]; points: [number, number][]; confidence: number[] }>;
}

const PARITY_FILE = path.join(REPO_ROOT, 'test/fixtures/models/parity.json');
const MODEL_DIR = process.env.CVM_PARITY_MODEL ?? path.join(REPO_ROOT, 'models', 'cvm13-unet');
const parity = existsSync(PARITY_FILE) ? (JSON.parse(readFileSync(PARITY_FILE, 'utf8')) as Parity) : null;
const model = existsSync(path.join(MODEL_DIR, 'manifest.json')) ? verifyModel(MODEL_DIR) : null;
const skipWhy = !HAS_SHARED_DATA
  ? 'shared data absent'
  : !parity
    ? `${PARITY_FILE} absent`
    : !model
      ? `${MODEL_DIR} absent`
      : !sameOnnx(model, parity)
        ? `parity.json was written for another manifest (${parity.manifestSha256.slice(0, 12)}, model has ${model.manifestSha256.slice(0, 12)}): rerun make_parity.py`
        : '';
function sameOnnx(m: NonNullable<typeof model>, p: Parity): boolean {
  if (p.locateSha256 && p.refineSha256)
    return m.manifest.stages.locate.sha256 === p.locateSha256 && m.manifest.stages.refine.sha256 === p.refineSha256;
  return m.manifestSha256 === p.manifestSha256;
}
if (skipWhy) console.warn(`parity test skipped: ${skipWhy}`);

describe.skipIf(skipWhy !== '')('parity with the Python pipeline on the shipped model', () => {
  let engine: InferenceEngine;
  beforeAll(async () => {
    // The README contract (argmax peaks): decoding.json's test-time passes and shape regularisation are the
    // app's own addition, measured by cross-validation.test.ts.
    engine = await InferenceEngine.start({ model: { ...model!, decoding: null }, providers: ['cpu'] });
  });
  afterAll(async () => {
    await engine.close();
  });

  it.each(Object.keys(parity?.images ?? {}))(
    'gives the landmarks and confidences of the Python pipeline on ISBI image %s',
    async (id) => {
      const expected = parity!.images[id]!;
      const opened = await decodeImageFile(`${id}.jpg`, readFileSync(sharedPath('isbi2015', 'images', `${id}.jpg`)));
      const r = await analyzeOpened(engine, opened, { spacing: enteredSpacing(parity!.spacingMm, 'parity') });
      parity!.landmarks.forEach((name, k) => {
        const l = r.prediction.landmarks.find((p) => p.name === name)!;
        expect(
          Math.hypot(l.stage1.x - expected.stage1[k]![0], l.stage1.y - expected.stage1[k]![1]),
          `${name} stage 1`,
        ).toBeLessThan(0.05);
        expect(Math.hypot(l.x - expected.points[k]![0], l.y - expected.points[k]![1]), name).toBeLessThan(0.05);
        expect(l.confidence).toBeCloseTo(expected.confidence[k]!, 3);
      });
    },
  );
});
