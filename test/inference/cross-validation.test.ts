/**
 * The shipped model's cross-validated figures, reproduced through the app's own inference code: every
 * annotated image analysed by the fold model that held it out (`cvm eval --folds`), against the manifest.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const MODEL = path.join(REPO_ROOT, 'models', 'cvm13-unet');
const FOLDS = path.join(MODEL, 'folds');
const HAS_FOLDS = existsSync(FOLDS);
if (!HAS_FOLDS) console.warn(`skipped: ${FOLDS} is absent (models/training/export_folds.py writes it)`);

describe.skipIf(!HAS_FOLDS || !HAS_SHARED_DATA)('cross-validation through the app', () => {
  it('cvm eval --folds gives the mean radial error and SDR the manifest states', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'main/cli/index.ts'),
        'eval',
        '--annotations',
        sharedPath('cvm13', 'annotations.json'),
        '--folds',
        FOLDS,
        '--json',
      ],
      { cwd: REPO_ROOT, env: { ...process.env, CVM_DISABLE_CUDA: '1' }, maxBuffer: 64 * 1024 * 1024 },
    );
    const report = JSON.parse(stdout) as {
      measured: { allImages: { images: number; landmarks: number; mre_mm: number; sdr: Record<string, number> } };
      training: { imagesInTraining: number };
      wrongVertebra: number;
      expectedError: { spearman: number; flaggedShare: number; over2mmFlagged: number };
      expectedErrorCalibration: string | null;
    };
    const manifest = JSON.parse(readFileSync(path.join(MODEL, 'manifest.json'), 'utf8')) as {
      accuracy: {
        mre_mm: number;
        sdr_2mm: number;
        landmarks_measured: number;
        wrong_vertebra: number;
        expected_error: { spearman: number; flagged_share: number; over_2mm_flagged: number };
      };
    };
    const all = report.measured.allImages;
    expect(report.training.imagesInTraining).toBe(0);
    expect(all.images).toBe(54);
    expect(all.landmarks).toBe(manifest.accuracy.landmarks_measured);
    // Python (training) and TypeScript (app) implement the same contract: equal to well under 0.01 mm.
    expect(Math.abs(all.mre_mm - manifest.accuracy.mre_mm)).toBeLessThan(0.005);
    expect(Math.abs(all.sdr['2mm']! - manifest.accuracy.sdr_2mm)).toBeLessThan(0.005);
    // The decoding (test-time passes, shape regularisation) and the expected-error calibration as fitted.
    expect(report.wrongVertebra).toBe(manifest.accuracy.wrong_vertebra);
    // Each fold model's calibration was fitted without that fold's points: the figures are leave-one-fold-out.
    expect(report.expectedErrorCalibration).toBe('leave-one-fold-out');
    const ee = manifest.accuracy.expected_error;
    expect(Math.abs(report.expectedError.spearman - ee.spearman)).toBeLessThan(0.005);
    expect(Math.abs(report.expectedError.flaggedShare - ee.flagged_share)).toBeLessThan(0.005);
    expect(Math.abs(report.expectedError.over2mmFlagged - ee.over_2mm_flagged)).toBeLessThan(0.005);
  }, 900_000); // 54 images through the app: about 2 minutes idle, over 5 on this 2-core machine under load

  it("each fold model's expected-error calibration is fitted without that fold's points", () => {
    type Calibration = {
      perLandmark: Record<string, number>;
      spreadLog: number;
      flagMm: number;
      crossValidated: { fittedWithout?: string };
    };
    const calibration = (dir: string): Calibration =>
      (JSON.parse(readFileSync(path.join(dir, 'decoding.json'), 'utf8')) as { expectedError: Calibration })
        .expectedError;
    const shipped = calibration(MODEL);
    expect(shipped.crossValidated.fittedWithout).toBeUndefined();
    const seen = new Set<string>();
    for (const fold of ['fold0', 'fold1', 'fold2', 'fold3', 'fold4']) {
      const c = calibration(path.join(FOLDS, fold));
      expect(c.crossValidated.fittedWithout).toBe(fold);
      // a fit on other points than the shipped one (all 662) and than every other fold's
      expect(c.spreadLog).not.toBe(shipped.spreadLog);
      expect(seen.has(`${c.spreadLog}`)).toBe(false);
      seen.add(`${c.spreadLog}`);
      expect(c.flagMm).toBeGreaterThan(0.5);
      expect(c.flagMm).toBeLessThan(1.5);
    }
  });
});
