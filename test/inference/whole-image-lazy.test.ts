/**
 * The whole-image models are found and checked per task, on first use: a command that needs only the
 * radiograph-kind model (`cvm analyze`) never reads the bone-age weights (13 MB, hashed at every start before).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appModelsDir, findWholeImageModels, openWholeImageModels } from '../../main/inference/index';

describe('whole-image models checked per task', () => {
  // A models folder whose bone-age weights cannot be read at all (a folder where the .onnx file should be):
  // reading them fails with EISDIR, so any read of them shows.
  const root = mkdtempSync(path.join(os.tmpdir(), 'cvm-lazy-models-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  cpSync(path.join(appModelsDir(), 'radiograph-kind'), path.join(root, 'radiograph-kind'), { recursive: true });
  cpSync(
    path.join(appModelsDir(), 'boneage-rsna100', 'manifest.json'),
    path.join(root, 'boneage-rsna100', 'manifest.json'),
  );
  mkdirSync(path.join(root, 'boneage-rsna100', 'boneage.onnx'));
  const dirs = [{ dir: root, source: 'user' as const }];

  it('the kind model is found without reading the bone-age weights', async () => {
    const models = openWholeImageModels(dirs);
    try {
      expect(models.kindModel?.manifest.task).toBe('radiograph-kind');
      expect(findWholeImageModels(dirs, 'radiograph-kind').models.map((m) => m.manifest.task)).toEqual([
        'radiograph-kind',
      ]);
      const kind = await models.classifyRadiograph({ width: 8, height: 8, data: new Uint16Array(64), window: null });
      expect(Object.keys(kind.probabilities).length).toBeGreaterThan(1);
      // Asking for the bone-age model reads its weights, and here that fails.
      expect(() => models.boneAgeModel).toThrow(/EISDIR/);
      expect(() => findWholeImageModels(dirs)).toThrow(/EISDIR/);
    } finally {
      await models.close();
    }
  });
});
