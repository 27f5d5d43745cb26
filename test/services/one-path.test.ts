/**
 * One path per use case (#17.2): `cvm analyze` on a file (main/services/file-analysis.ts) and the app's
 * analysis of the same image once imported (main/services/analysis.ts) run the same code, so they give the same
 * landmarks, stage and summary; only where the pixels come from and what is recorded differ.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analysisHandlers, closeInferenceEngines } from '../../main/services/analysis';
import type { ServiceContext } from '../../main/services/context';
import { analyzeFiles, enteredSpacing } from '../../main/services/file-analysis';
import { closeStudyStores, importFile, storeFor } from '../../main/services/studies';
import { makePng } from '../store/png';
import { TINY_MODEL_DIR } from '../inference/helpers';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-one-path-'));
cpSync(TINY_MODEL_DIR, path.join(dataDir, 'models', 'tiny'), { recursive: true });
const ctx: ServiceContext = { mode: 'cli', dataDir, appVersion: 'test', emit: () => {} };

afterAll(async () => {
  await closeInferenceEngines();
  closeStudyStores();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the command line and the app share the analysis', () => {
  it('gives the same landmarks, stage and summary for a file and for the same image stored', async () => {
    const bytes = makePng(320, 400, 7);
    const file = path.join(dataDir, 'ceph-7.png');
    writeFileSync(file, bytes);

    const imported = await importFile(storeFor(ctx), 'ceph-7.png', bytes, { author: 'test', spacingMm: 0.2 });
    if (!imported.ok) throw new Error(imported.error.message);
    const stored = await analysisHandlers(ctx).analyzeImage({ imageId: imported.imageId, modelId: 'tiny' });
    if (!stored.ok) throw new Error(stored.error.message);

    const outcome = await analyzeFiles([file], {
      dataDir,
      model: 'tiny',
      spacing: enteredSpacing(0.2, '--spacing 0.2 on the command line'),
    });
    const item = outcome.items[0];
    if (!item?.ok) throw new Error(item ? item.error.message : 'no result');
    const fromFile = item.value;

    const points = (r: typeof fromFile) => r.prediction.landmarks.map((l) => [l.name, l.x, l.y, l.expectedErrorMm]);
    expect(points(fromFile)).toEqual(points(stored.value));
    expect(points(fromFile)).toHaveLength(13);
    expect(fromFile.summary).toBe(stored.value.summary);
    expect(fromFile.stageCertain).toBe(stored.value.stageCertain);
    expect(fromFile.assessment).toEqual(stored.value.assessment);
    expect(fromFile.prediction.recognition).toEqual(stored.value.prediction.recognition);
    // What differs: the app records the run, the command line records nothing.
    expect(stored.value.recorded).not.toBeNull();
    expect(fromFile.recorded).toBeNull();
  }, 300_000);
});
