import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import { syntheticPoints } from '../../main/cli/bench/synthetic';
import { exportCsv } from '../../main/services/exchange';
import { exportDataset, setReviewStatusChecked } from '../../main/services/studies';
import { MODEL_RUN, addStudy, openStore, storeError, tempDir } from '../store/helpers';

const confidences = Object.fromEntries(LANDMARK_NAMES.map((n) => [n, 0.9]));
const cs4 = syntheticPoints('CS4');

describe('approval in the service: the rules hold whatever the client sends', () => {
  it('refuses a study without landmarks, with the reason', () => {
    const store = openStore(tempDir());
    const id = addStudy(store, 1);
    expect(storeError(() => setReviewStatusChecked(store, { imageId: id, status: 'approved' })).message).toMatch(
      /no landmarks to approve/,
    );
    expect(store.loadStudy(id).review.status).toBe('unreviewed');
  });

  it('refuses the unmoved prediction of a failed run (not a cephalogram)', () => {
    const store = openStore(tempDir());
    const id = addStudy(store, 1);
    store.recordModelRun(id, {
      ...MODEL_RUN,
      landmarks: cs4,
      confidences,
      quality: { verdict: 'failed', problems: ['C2, C3 and C4 were not found'] },
    });
    expect(storeError(() => setReviewStatusChecked(store, { imageId: id, status: 'approved' })).message).toMatch(
      /^Cannot approve: The model did not find C2-C4/,
    );
  });

  it('approves an uncertain run only with a confirmation, which the audit log records', () => {
    const store = openStore(tempDir());
    const id = addStudy(store, 1);
    store.recordModelRun(id, {
      ...MODEL_RUN,
      landmarks: cs4,
      confidences,
      quality: { verdict: 'uncertain', problems: ['Low confidence for C4la.'] },
    });
    expect(storeError(() => setReviewStatusChecked(store, { imageId: id, status: 'approved' })).message).toMatch(
      /needs your confirmation/,
    );
    const review = setReviewStatusChecked(store, {
      imageId: id,
      status: 'approved',
      confirmation: 'The model was not confident on this image (Low confidence for C4la).',
    });
    expect(review.status).toBe('approved');
    const entry = store.auditLog(id).find((e) => e.action === 'review')!;
    expect(entry.summary).toMatch(/unreviewed -> approved \(confirmed: The model was not confident/);
    expect(JSON.parse(entry.after_json!).confirmed).toMatch(/not confident/);
  });

  it('approves a plausible, confident study without questions', () => {
    const store = openStore(tempDir());
    const id = addStudy(store, 1);
    store.recordModelRun(id, { ...MODEL_RUN, landmarks: cs4, confidences, quality: { verdict: 'ok', problems: [] } });
    expect(setReviewStatusChecked(store, { imageId: id, status: 'approved' }).status).toBe('approved');
  });

  it('records entered age and sex for a study without them, audited, and refuses to overwrite file values', () => {
    const store = openStore(tempDir());
    const id = addStudy(store, 1);
    const before = store.loadStudy(id).info.meta;
    if (before.sex !== null)
      expect(storeError(() => store.setPatientInfo(id, { sex: 'F' }, 'tester')).message).toMatch(/comes from the file/);
    const png = store.insertImage({
      sha256: 'f'.repeat(64),
      storedPath: 'images/x.png',
      originalName: 'x.png',
      byteSize: 10,
      author: 'tester',
      info: {
        ...store.loadStudy(id).info,
        format: 'png',
        meta: {
          ...before,
          patientId: null,
          patientName: null,
          sex: null,
          ageYears: null,
          birthDate: null,
          studyInstanceUid: null,
        },
      },
    }).imageId;
    store.setPatientInfo(png, { ageYears: 13 + 8 / 12, sex: 'F' }, 'tester');
    const meta = store.loadStudy(png).info.meta;
    expect(meta.sex).toBe('F');
    expect(meta.ageYears).toBeCloseTo(13.667, 3);
    expect(store.auditLog(png).find((e) => e.action === 'patient-data')!.summary).toMatch(/age 13\.667, sex F/);
    expect(store.listStudies({ offset: 0, limit: 10, search: 'x.png' }).rows[0]!.sex).toBe('F');
  });

  it('the data-set export writes the same CSV as cvm export, with progress', () => {
    const dir = tempDir();
    const store = openStore(dir);
    const id = addStudy(store, 1);
    store.recordModelRun(id, { ...MODEL_RUN, landmarks: cs4, confidences, quality: { verdict: 'ok', problems: [] } });
    const seen: number[] = [];
    const out = exportDataset(store, { format: 'csv', approvedOnly: false }, (done) => seen.push(done));
    expect(out.count).toBe(1);
    expect(readFileSync(out.file, 'utf8')).toBe(exportCsv(store, { approvedOnly: false }).csv);
    expect(seen).toEqual([1]);
    expect(
      storeError(() => exportDataset(store, { format: 'csv', approvedOnly: false, folder: 'relative/dir' })).message,
    ).toMatch(/full path/);
  });
});

describe('a landmark moved back onto the prediction', () => {
  it("counts as the model's again, not as human-placed", () => {
    const store = openStore(tempDir());
    const id = addStudy(store, 1);
    const ai = store.recordModelRun(id, {
      ...MODEL_RUN,
      landmarks: cs4,
      confidences,
      quality: { verdict: 'ok', problems: [] },
    });
    const away = { ...cs4, C3m: [cs4.C3m![0], cs4.C3m![1] + 5] as [number, number] };
    const v1 = store.addVersion(id, {
      kind: 'edit',
      points: away,
      author: 'a',
      baseVersionId: ai.versionId,
      moved: ['C3m'],
    });
    expect(store.loadStudy(id).latest!.fromPrediction).not.toContain('C3m');
    // Back by keyboard steps: floating-point sums land within a micro-pixel of the prediction.
    const back = { ...cs4, C3m: [cs4.C3m![0], cs4.C3m![1] + 5 - 1 - 1 - 1 - 1 - 1 + 1e-9] as [number, number] };
    store.addVersion(id, { kind: 'edit', points: back, author: 'a', baseVersionId: v1.versionId, moved: ['C3m'] });
    expect(store.loadStudy(id).latest!.fromPrediction).toContain('C3m');
    expect(store.loadStudy(id).latest!.fromPrediction).toHaveLength(13);
  });
});
