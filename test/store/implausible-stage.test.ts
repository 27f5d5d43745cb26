/**
 * An anatomically impossible landmark set keeps no stored stage: the worklist showed "CS1 99%" beside "failed" for
 * a cephalogram whose column the landmark model could not find (ISBI 002), although the study view marks that
 * stage not valid and approval refuses the set. Stages stored before the rule are computed again once.
 */
import { describe, expect, it } from 'vitest';
import { assess, CVM_STAGES } from '../../core/cvm/index';
import { fromLandmarkSet, toLandmarkSet, type LandmarkPoints } from '../../core/api/studies';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import { checkPlausibility } from '../../core/review/plausibility';
import { STAGE_MODEL_TAG } from '../../main/store/stage';
import { syntheticLandmarks } from '../core/synthetic-landmarks';
import { MODEL_RUN, addStudy, openStore, tempDir } from './helpers';

const confidences = Object.fromEntries(LANDMARK_NAMES.map((n) => [n, 0.9]));
const page = { offset: 0, limit: 100 } as const;
const spine = (): LandmarkPoints =>
  fromLandmarkSet(
    syntheticLandmarks({
      concavity: [0.12, 0.12, 0.12],
      C3: { ratio: 1.3, heightRatio: 0.95, height: 11 },
      C4: { ratio: 1.3, heightRatio: 0.95, height: 11 },
      mmPerPx: 0.1,
    }),
  );

/**
 * What the landmark model placed on ISBI 002 (pixels, 0.1 mm), whose column it could not find: C2's border runs
 * down through C3 (the run's verdict "failed"), yet the staging model alone gives CS1 at 97% from these points.
 */
const ISBI_002_PREDICTED: LandmarkPoints = {
  C2p: [558.5, 1702.9],
  C2m: [606.6, 1795.5],
  C2a: [692.3, 1841.9],
  C3up: [552.4, 1720.8],
  C3lp: [540.2, 1848.4],
  C3m: [592.8, 1840.7],
  C3la: [690.9, 1916.1],
  C3ua: [687.3, 1886.7],
  C4up: [536.9, 1865.4],
  C4lp: [530.3, 2000.5],
  C4m: [594.7, 2011.1],
  C4la: [681.7, 2036.2],
  C4ua: [679.5, 2012.8],
};

describe('the stored stage of an anatomically impossible landmark set', () => {
  it('is none, with why, where the staging model alone would still give a stage', () => {
    const points = ISBI_002_PREDICTED;
    // The premise: impossible by the approval rules, yet stageable by the model.
    expect(checkPlausibility(toLandmarkSet(points)).verdict).toBe('implausible');
    const alone = assess(toLandmarkSet(points), { rowMm: 0.1, colMm: 0.1 });
    expect(alone.ok && CVM_STAGES.includes(alone.staging.stage)).toBe(true);

    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const run = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: points, confidences });
    expect(run.stage).toMatchObject({ kind: 'error', stage: null, borderline: false });
    expect(run.stage.label).toMatch(/^landmarks anatomically impossible \(/);
    const [row] = store.listStudies(page).rows;
    expect(row).toMatchObject({ stage: null, stageLabel: run.stage.label, stageProbability: null });
    expect(store.listStudies({ ...page, stage: 'none' }).total).toBe(1);
    for (const s of CVM_STAGES) expect(store.listStudies({ ...page, stage: s }).total).toBe(0);

    // Corrected by a person, the same study is staged again.
    const edited = store.addVersion(imageId, {
      kind: 'edit',
      points: spine(),
      author: 'annotator',
      baseVersionId: run.versionId,
    });
    expect(edited.stage).toMatchObject({ kind: 'stage', stage: 'CS4' });
  });

  it('stored before the rule, is computed again once when the store opens', () => {
    const dir = tempDir();
    const old = openStore(dir, { migrateTo: 12 });
    const imageId = addStudy(old, 1);
    old.recordModelRun(imageId, { ...MODEL_RUN, landmarks: ISBI_002_PREDICTED, confidences });
    // What an older version stored for it: the model's stage.
    old.db
      .prepare(
        "UPDATE stage_results SET kind = 'stage', stage = 'CS1', label = 'CS1 (97%)', probability = 0.97, confidence = 'high', stage_model = ?",
      )
      .run(STAGE_MODEL_TAG);
    old.close();
    const store = openStore(dir);
    expect(store.loadStudy(imageId).latest?.stage).toMatchObject({ kind: 'error', stage: null });
    expect(store.listStudies(page).rows[0]).toMatchObject({ stage: null, stageProbability: null });
  });
});
