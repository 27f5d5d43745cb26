/**
 * The shipped model (models/cvm13-unet) end to end, through the real `cvm analyze` command. Image 001 is a
 * training image of the shipped model, so its error checks the chain (coordinates, scale, channel order),
 * not the model's accuracy: `cvm eval` and the manifest's cross-validated figures do that.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisResult } from '../../core/api/analysis';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import { decodeImageFile } from '../../main/dicom/index';
import { analyzeOpened, InferenceEngine, verifyModel } from '../../main/inference/index';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const SHIPPED = path.join(REPO_ROOT, 'models', 'cvm13-unet', 'manifest.json');
const HAS_SHIPPED = existsSync(SHIPPED);
if (!HAS_SHIPPED) console.warn(`skipped: ${SHIPPED} is absent (the model is trained by models/training)`);

const run = promisify(execFile);

describe.skipIf(!HAS_SHIPPED || !HAS_SHARED_DATA)('the shipped model through cvm analyze', () => {
  it('gives all 13 landmarks and a stage for ISBI image 001 at 0.1 mm', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'main/cli/index.ts'),
        'analyze',
        sharedPath('isbi2015', 'images', '001.jpg'),
        '--spacing',
        '0.1',
        '--json',
      ],
      { cwd: REPO_ROOT, env: { ...process.env, CVM_DISABLE_CUDA: '1' }, maxBuffer: 64 * 1024 * 1024 },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; result?: AnalysisResult });
    expect(lines.map((l) => l.type)).toEqual(['start', 'progress', 'result', 'progress', 'done']);
    const r = lines[2]!.result!;
    expect(r.prediction.model.id).toBe('cvm13-unet');
    expect(r.prediction.landmarks.map((l) => l.name).sort()).toEqual([...LANDMARK_NAMES].sort());
    expect(r.spacing).toMatchObject({ rowMm: 0.1, colMm: 0.1, source: 'entered' });
    expect(r.assessment.ok).toBe(true);
    if (r.assessment.ok) expect(['stage', 'no-fit']).toContain(r.assessment.result.kind);

    const truth = JSON.parse(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8')).images['001'];
    const errorsMm = r.prediction.landmarks
      .filter((l) => !truth.filled_from_prediction.includes(l.name))
      .map((l) => Math.hypot(l.x - truth.points[l.name][0], l.y - truth.points[l.name][1]) * 0.1);
    const mre = errorsMm.reduce((a, b) => a + b, 0) / errorsMm.length;
    // A wrong mapping (letterbox, crop scale, channel order) puts landmarks millimetres to centimetres away.
    expect(mre).toBeLessThan(2);
  });
});

describe.skipIf(!HAS_SHIPPED || !HAS_SHARED_DATA)('the quality gate with the shipped model', () => {
  let engine: InferenceEngine;
  beforeAll(async () => {
    engine = await InferenceEngine.start({ model: verifyModel(path.dirname(SHIPPED)), providers: ['cpu'] });
  }, 120_000); // a worker from source under tsx, on a loaded 2-core machine
  afterAll(async () => {
    await engine?.close();
  });

  it.each([
    ['a hand radiograph', ['boneage', 'rsna-sample', '7034.png']],
    ['a chest radiograph (MONOCHROME1, no spacing)', ['dicom', 'wg04-cr', 'RG3_UNC.dcm']],
  ])('does not present a stage as certain for %s', async (_what, parts) => {
    const opened = await decodeImageFile(parts.at(-1)!, readFileSync(sharedPath(...parts)));
    const r = await analyzeOpened(engine, opened);
    expect(r.stageCertain).toBe(false);
    expect(r.prediction.quality.verdict).not.toBe('ok');
    expect(r.prediction.quality.problems.length).toBeGreaterThan(0);
  });

  // #12 item 5: the landmark model's own gate, whatever the radiograph-kind classifier says (it calls this chest
  // film a cephalogram, docs/boneage.md): no orientation shows an upright C2-C4 column, so no landmark is drawn.
  it.each([
    ['the NEMA WG04 chest PA film (RG1, JPEG-LS)', 'RG1_JLSN.dcm'],
    ['the NEMA WG04 RG2 film', 'RG2_UNC.dcm'],
  ])(
    'refuses %s as not a lateral cephalogram, without landmarks',
    async (_what, name) => {
      const opened = await decodeImageFile(name, readFileSync(sharedPath('dicom', 'wg04-cr', name)));
      const r = await analyzeOpened(engine, opened);
      expect(r.prediction.recognition.lateralCephalogram).toBe(false);
      expect(r.prediction.recognition.reason).toMatch(/no C2-C4 vertebrae|not shaped like C2-C4|no orientation/);
      expect(r.prediction.landmarks).toEqual([]);
      expect(r.prediction.quality.verdict).toBe('failed');
      expect(r.stageCertain).toBe(false);
    },
    180_000,
  );

  it('warms up every network of the ensemble twice (locate, refine and its three members), in turn with analyses', async () => {
    const opened = await decodeImageFile('001.jpg', readFileSync(sharedPath('isbi2015', 'images', '001.jpg')));
    const spacing = {
      rowMm: 0.1,
      colMm: 0.1,
      source: 'entered' as const,
      detail: 'the ISBI images are 0.1 mm per pixel',
    };
    const [before, warm, after] = await Promise.all([
      analyzeOpened(engine, opened, { spacing }),
      engine.warmUp(),
      analyzeOpened(engine, opened, { spacing }),
    ]);
    expect(warm.runs).toBe(10);
    expect(warm.ms).toBeGreaterThan(0);
    // The zero inputs leave nothing behind: the same image gives the same landmarks before and after.
    expect(after.prediction.landmarks).toEqual(before.prediction.landmarks);
  }, 60_000);

  it('estimates the scale of an uncalibrated cephalogram and says so', async () => {
    const opened = await decodeImageFile('001.jpg', readFileSync(sharedPath('isbi2015', 'images', '001.jpg')));
    const r = await analyzeOpened(engine, opened);
    expect(r.spacing).toBeNull();
    expect(r.prediction.roiScale.estimated).toBe(true);
    expect(r.assessment.ok && r.assessment.measurements.unit).toBe('px');
    // ISBI images are 0.1 mm/px; the estimate rests on a typical vertebral size (see core/inference/scale.ts).
    expect(r.prediction.roiScale.mmPerPixelX).toBeGreaterThan(0.07);
    expect(r.prediction.roiScale.mmPerPixelX).toBeLessThan(0.13);
  });
});
