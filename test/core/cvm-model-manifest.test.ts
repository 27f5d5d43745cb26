import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crossValidatedFigures, DEFAULT_FIT_OPTIONS, fitStagingModel } from '../../core/cvm/fit';
import { STAGE_MODEL, STAGING_FEATURES } from '../../core/cvm/index';
import { readClinicianStagedFile } from '../../main/cli/clinician-stages';
import { stageManifestPath } from '../../main/cli/stage-model-files';
import { HAS_SHARED_DATA, SKIP_NO_SHARED, sharedPath } from '../shared-data';

const manifest = JSON.parse(readFileSync(stageManifestPath(), 'utf8'));

describe('the shipped staging parameters', () => {
  it('match their manifest: file hash, id, version and features', () => {
    // the manifest names the parameter file from the repository root: the one core/cvm bundles
    expect(manifest.params.file).toBe(`core/cvm/params/${STAGE_MODEL.id}.json`);
    const bytes = readFileSync(path.join(import.meta.dirname, '..', '..', manifest.params.file));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.params.sha256);
    expect(manifest.id).toBe(STAGE_MODEL.id);
    expect(manifest.version).toBe(STAGE_MODEL.version);
    expect(manifest.features.map((f: { id: string }) => f.id)).toEqual(STAGING_FEATURES.map((f) => f.id));
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(STAGE_MODEL);
  });

  it('record cross-validated figures that meet the targets', () => {
    const cv = manifest.crossValidated;
    expect(cv.spines).toBe(720);
    expect(cv.exact).toBeGreaterThanOrEqual(0.58);
    expect(cv.withinOne).toBeGreaterThanOrEqual(0.94);
    expect(cv.quadraticKappa).toBeGreaterThanOrEqual(0.87);
    expect(cv.top2).toBeGreaterThanOrEqual(0.86);
    expect(cv.ece).toBeLessThanOrEqual(0.05);
  });
});

describe.skipIf(!HAS_SHARED_DATA)(`refitting from ../shared/data/cvm900 ${SKIP_NO_SHARED}`, () => {
  it(
    "reads the same data file, reproduces the manifest's cross-validated figures and the shipped parameters",
    { timeout: 600_000 },
    () => {
      const data = readClinicianStagedFile(sharedPath('cvm900', 'cvm900_train.json'));
      expect(data.sha256).toBe(manifest.training.dataSha256);
      expect(data.spines.length).toBe(manifest.training.spines);
      // The first repetition (the fit script's default seed) in full; the headline is the mean of the repetitions.
      const cv = crossValidatedFigures(data.spines, data.unmeasurable.length, 5, DEFAULT_FIT_OPTIONS);
      expect(cv).toEqual(manifest.crossValidated.perRepeat[0]);
      for (const key of ['exact', 'withinOne', 'quadraticKappa', 'top2', 'ece', 'logLoss'] as const) {
        const values = manifest.crossValidated.perRepeat.map((r: Record<string, number>) => r[key]!);
        expect(manifest.crossValidated[key]).toBeCloseTo(
          values.reduce((a: number, b: number) => a + b, 0) / values.length,
          4,
        );
      }
      const fit = fitStagingModel(data.spines, { ...DEFAULT_FIT_OPTIONS, training: STAGE_MODEL.training });
      expect(fit.lambda).toBe(manifest.training.chosen.lambda);
      expect(fit.params.temperature).toBeCloseTo(STAGE_MODEL.temperature, 9);
      fit.params.weights.forEach((row, c) =>
        row.forEach((w, j) => expect(w).toBeCloseTo(STAGE_MODEL.weights[c]![j]!, 9)),
      );
      fit.params.bias.forEach((b, c) => expect(b).toBeCloseTo(STAGE_MODEL.bias[c]!, 9));
    },
  );
});
