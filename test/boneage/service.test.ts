/**
 * Hand-wrist radiographs in the app, on a real SQLite data folder with the shipped models: a hand is
 * recognised and never given vertebral landmarks; bone age needs the sex, which a user can enter (audited)
 * when the file lacks it; results are stored append-only.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analysisHandlers, closeInferenceEngines, landmarkSecondOpinion } from '../../main/services/analysis';
import { boneAgeHandlers, closeWholeImageModels } from '../../main/services/boneage';
import type { ServiceContext } from '../../main/services/context';
import { closeStudyStores, importFile, storeFor } from '../../main/services/studies';
import { latestBoneAges } from '../../main/store/boneage';
import { exportCsv } from '../../main/services/exchange';
import { cephalogramOnCanvasDicom } from '../misjudged-cephalogram';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-boneage-'));
const ctx: ServiceContext = { mode: 'cli', dataDir, appVersion: 'test', emit: () => undefined };
const analysis = analysisHandlers(ctx);
const boneage = boneAgeHandlers(ctx);

async function importShared(...parts: string[]): Promise<number> {
  const file = sharedPath(...parts);
  const r = await importFile(storeFor(ctx), path.basename(file), readFileSync(file), { author: 'test' });
  if (!r.ok) throw new Error(r.error.message);
  return r.imageId;
}

afterAll(async () => {
  await closeInferenceEngines();
  await closeWholeImageModels();
  closeStudyStores();
});

describe.skipIf(!HAS_SHARED_DATA)('hand-wrist radiographs in the app', () => {
  it('never gives a hand vertebral landmarks: analysis is refused and nothing is recorded', async () => {
    const imageId = await importShared('boneage', 'rsna-sample', '7035.png');
    const r = await analysis.analyzeImage({ imageId });
    expect(r.ok ? null : r.error).toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(/7035\.png is a hand-wrist radiograph .*not vertebral landmarks/),
    });
    const store = storeFor(ctx);
    expect(store.db.prepare('SELECT COUNT(*) FROM landmark_sets WHERE image_ref = ?').pluck().get(imageId)).toBe(0);
    expect(store.db.prepare('SELECT COUNT(*) FROM model_runs WHERE image_ref = ?').pluck().get(imageId)).toBe(0);
    expect(store.db.prepare('SELECT kind FROM radiograph_kinds WHERE image_ref = ?').pluck().get(imageId)).toBe('hand');
  });

  it('asks for the sex of a PNG hand, records the entered sex in the audit log, then estimates and stores the bone age', async () => {
    const imageId = await importShared('boneage', 'rsna-sample', '7047.png');
    const view = await boneage.getBoneAge({ imageId });
    if (!view.ok) throw new Error(view.error.message);
    expect(view.value).toMatchObject({ kind: { kind: 'hand' }, sex: null, sexEditable: true, latest: null });
    const refused = await boneage.estimateBoneAge({ imageId });
    expect(refused.ok ? null : refused.error).toMatchObject({
      code: 'invalid-request',
      message: expect.stringMatching(/no patient sex: enter it first/),
    });

    const sexed = await boneage.setPatientSex({ imageId, sex: 'F' });
    if (!sexed.ok) throw new Error(sexed.error.message);
    expect(sexed.value).toMatchObject({ sex: 'F', sexSource: 'entered', sexEditable: true });
    const audit = storeFor(ctx)
      .auditLog(imageId)
      .map((a) => [a.action, a.summary]);
    expect(audit).toContainEqual(['patient-data', 'entered sex F']);

    const est = await boneage.estimateBoneAge({ imageId });
    if (!est.ok) throw new Error(est.error.message);
    const b = est.value.latest!;
    expect(b.sex).toBe('F');
    expect(b.months).toBeGreaterThan(1);
    expect(b.interval.low).toBeLessThan(b.months);
    expect(b.model.id).toBe('boneage-rsna100');
    expect(est.value.comparison).toBeNull(); // a PNG has no birth or study date
    expect(latestBoneAges(storeFor(ctx)).get(imageId)?.id).toBe(b.id);
    expect(() => storeFor(ctx).db.prepare('UPDATE bone_age_results SET months = 1').run()).toThrow(/never changed/);

    // the bone age is what gets approved for a hand, and the research CSV carries it
    expect(storeFor(ctx).setReviewStatus(imageId, 'approved', 'dr test').status).toBe('approved');
    const { csv } = exportCsv(storeFor(ctx), { approvedOnly: true });
    const [header, ...lines] = csv
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const row = lines.find((l) => l[header!.indexOf('image_id')] === String(imageId))!;
    expect(Number(row[header!.indexOf('bone_age_months')])).toBeCloseTo(b.months, 1);
    expect(row[header!.indexOf('bone_age_sex')]).toBe('F');
    expect(row[header!.indexOf('sex')]).toBe('F');
    expect(row[header!.indexOf('review_status')]).toBe('approved');
  });

  it('gives no bone age to a cephalogram the kind model takes for a hand, and records it as an unsure cephalogram', async () => {
    const r = await importFile(storeFor(ctx), 'canvas.dcm', await cephalogramOnCanvasDicom(), { author: 'test' });
    if (!r.ok) throw new Error(r.error.message);
    const { imageId } = r;
    const before = await boneage.getBoneAge({ imageId });
    expect(before.ok && before.value.kind?.kind).toBe('hand');
    // The app's handlers ask the landmark model (handlers.ts); without it the kind model's verdict stands.
    const checked = boneAgeHandlers(ctx, landmarkSecondOpinion(ctx, 'as-stored').findsColumn);
    const refused = await checked.estimateBoneAge({ imageId });
    expect(refused.ok ? null : refused.error).toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(
        /canvas\.dcm: the radiograph-kind model took it for a hand-wrist radiograph .* landmark model found a plausible C2-C4 column/,
      ),
    });
    const view = await boneage.getBoneAge({ imageId });
    expect(view.ok && view.value).toMatchObject({ kind: { kind: 'cephalogram', uncertain: true }, latest: null });
  });

  it('refuses a bone age for a cephalogram and still analyses its landmarks', async () => {
    const imageId = await importShared('isbi2015', 'images', '001.jpg');
    const r = await boneage.estimateBoneAge({ imageId });
    expect(r.ok ? null : r.error).toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(/recognised as a cephalogram/),
    });
    const view = await boneage.getBoneAge({ imageId });
    expect(view.ok && view.value.kind?.kind).toBe('cephalogram');
    const landmarks = await analysis.analyzeImage({ imageId });
    expect(landmarks.ok).toBe(true);
  });
});
