import { describe, expect, it } from 'vitest';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import { CVM_STAGES } from '../../core/cvm/index';
import { syntheticLandmarks, type SyntheticSpec } from '../core/synthetic-landmarks';
import { fromLandmarkSet, type LandmarkPoints } from '../../core/api/studies';
import { exportCsv } from '../../main/services/exchange';
import { STAGE_MODEL_TAG } from '../../main/store/stage';
import { MODEL_RUN, addStudy, openStore, tempDir } from './helpers';

const confidences = Object.fromEntries(LANDMARK_NAMES.map((n) => [n, 0.9]));
const page = { offset: 0, limit: 100 } as const;
const F = 0.02,
  C = 0.12;
const body = (ratio: number, heightRatio: number) => ({ ratio, heightRatio, height: 11 });
const SPECS: Record<(typeof CVM_STAGES)[number], SyntheticSpec> = {
  CS1: { concavity: [F, F, F], C3: body(1.5, 0.7), C4: body(1.5, 0.7) },
  CS2: { concavity: [C, F, F], C3: body(1.5, 0.7), C4: body(1.5, 0.7) },
  CS3: { concavity: [C, C, F], C3: body(1.5, 0.7), C4: body(1.5, 0.7) },
  CS4: { concavity: [C, C, C], C3: body(1.3, 0.95), C4: body(1.3, 0.95) },
  CS5: { concavity: [C, C, C], C3: body(1.05, 0.97), C4: body(1.1, 0.97) },
  CS6: { concavity: [C, C, C], C3: body(0.8, 0.97), C4: body(0.8, 0.97) },
};
const syntheticPoints = (stage: (typeof CVM_STAGES)[number]): LandmarkPoints =>
  fromLandmarkSet(syntheticLandmarks({ ...SPECS[stage], mmPerPx: 0.1 }));

describe('stored stages of the clinician-fitted staging model', () => {
  it('every version stores the model stage with its probability, runner-up, confidence and the textbook stage', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    const run = store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: syntheticPoints('CS4'), confidences });
    expect(run.stage).toMatchObject({
      kind: 'stage',
      stage: 'CS4',
      textbookStage: 'CS4',
      runnerUp: expect.stringMatching(/^CS[1-6]$/),
    });
    expect(run.stage.probability).toBeGreaterThan(0.5);
    expect(run.stage.label).toBe(`CS4 (${Math.round(run.stage.probability! * 100)}%)`);
    expect(run.stage.borderline).toBe(run.stage.confidence === 'low');
    const latest = store.loadStudy(imageId).latest!;
    expect(latest.stage).toEqual(run.stage);
  });

  it('the worklist filters by the model confidence and sorts by the stage probability', () => {
    const store = openStore(tempDir());
    const stages = ['CS1', 'CS2', 'CS3', 'CS4', 'CS5', 'CS6'] as const;
    stages.forEach((s, i) => {
      const id = addStudy(store, i);
      store.recordModelRun(id, { ...MODEL_RUN, landmarks: syntheticPoints(s), confidences });
    });
    const all = store.listStudies({ ...page, sort: { field: 'stageProbability', dir: 'desc' } }).rows;
    expect(all).toHaveLength(6);
    const p = all.map((r) => r.stageProbability!);
    expect(p).toEqual([...p].sort((a, b) => b - a));
    for (const word of ['high', 'moderate', 'low'] as const) {
      const rows = store.listStudies({ ...page, stageConfidence: word }).rows;
      expect(rows.every((r) => r.stageConfidence === word)).toBe(true);
      expect(store.listStudies({ ...page, stageConfidence: word }).total).toBe(
        all.filter((r) => r.stageConfidence === word).length,
      );
    }
  });

  it('results of another staging model (or none) are recomputed when the store opens', () => {
    const dir = tempDir();
    const first = openStore(dir);
    const imageId = addStudy(first, 1);
    first.recordModelRun(imageId, { ...MODEL_RUN, landmarks: syntheticPoints('CS5'), confidences });
    first.db
      .prepare("UPDATE stage_results SET probability = NULL, runner_up = NULL, label = 'CS5', stage_model = NULL")
      .run();
    first.close();
    const second = openStore(dir);
    const stage = second.loadStudy(imageId).latest!.stage!;
    expect(stage.probability).toBeGreaterThan(0);
    expect(stage.label).toMatch(/^CS[1-6] \(\d+%\)$/);
    const tag = second.db.prepare('SELECT stage_model AS tag FROM stage_results').get() as { tag: string };
    expect(tag.tag).toBe(STAGE_MODEL_TAG);
  });

  it('the CSV export carries the model stage, its probabilities, runner-up, confidence and the textbook stage', () => {
    const store = openStore(tempDir());
    const imageId = addStudy(store, 1);
    store.recordModelRun(imageId, { ...MODEL_RUN, landmarks: syntheticPoints('CS6'), confidences });
    const { csv } = exportCsv(store, { approvedOnly: false });
    const [header, row] = csv
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const get = (name: string): string => row![header!.indexOf(name)]!;
    expect(get('stage')).toBe('CS6');
    expect(get('textbook_stage')).toBe('CS6');
    expect(get('stage_model')).toBe(STAGE_MODEL_TAG);
    expect(['high', 'moderate', 'low']).toContain(get('confidence'));
    const probabilities = CVM_STAGES.map((s) => Number(get(`p_${s}`)));
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(Number(get('stage_probability'))).toBe(Math.max(...probabilities));
  });
});
