/**
 * Approving a hand-wrist study through the service, on a real SQLite data folder with the shipped models and a
 * real RSNA hand radiograph: what is approved is the bone age (with its interval and sex, named in the audit
 * log); a new estimate or a change of sex sends the study back to review.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { boneAgeHandlers, closeWholeImageModels } from '../../main/services/boneage';
import type { ServiceContext } from '../../main/services/context';
import { closeStudyStores, importFile, setReviewStatusChecked, storeFor } from '../../main/services/studies';
import { StoreError } from '../../main/store/errors';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-boneage-approval-'));
const ctx: ServiceContext = { mode: 'cli', dataDir, appVersion: 'test', emit: () => undefined };
const boneage = boneAgeHandlers(ctx);

afterAll(async () => {
  await closeWholeImageModels();
  closeStudyStores();
});

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof StoreError) return error.message;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe.skipIf(!HAS_SHARED_DATA)('approving a hand-wrist study', () => {
  it('approves the bone age, names it in the audit log, and withdraws it when the estimate or the sex changes', async () => {
    const file = sharedPath('boneage', 'rsna-sample', '7043.png');
    const imported = await importFile(storeFor(ctx), '7043.png', readFileSync(file), { author: 'test' });
    if (!imported.ok) throw new Error(imported.error.message);
    const imageId = imported.imageId;
    const store = storeFor(ctx);
    const approve = () => setReviewStatusChecked(store, { imageId, status: 'approved' });

    const view = await boneage.getBoneAge({ imageId });
    expect(view.ok && view.value.kind?.kind).toBe('hand');
    expect(refusal(approve)).toMatch(/^Cannot approve: There is no bone age to approve: estimate it first/);

    expect((await boneage.setPatientSex({ imageId, sex: 'F' })).ok).toBe(true);
    const est = await boneage.estimateBoneAge({ imageId });
    if (!est.ok) throw new Error(est.error.message);
    const b = est.value.latest!;
    expect(approve().status).toBe('approved');
    const approval = store.auditLog(imageId).find((e) => e.action === 'bone-age-approval')!;
    expect(approval.summary).toMatch(
      /^approved bone age \d+ y \d+ mo \(90% interval .* to .*\), girl \(result \d+, boneage-rsna100 /,
    );
    expect(JSON.parse(approval.after_json!)).toMatchObject({
      resultId: b.id,
      months: b.months,
      sex: 'F',
      interval: b.interval,
    });

    // the sex changes: the approved bone age was for a girl, so the study goes back to review and stays refused
    expect((await boneage.setPatientSex({ imageId, sex: 'M' })).ok).toBe(true);
    expect(store.loadStudy(imageId).review.status).toBe('in-progress');
    expect(store.auditLog(imageId).map((e) => e.summary)).toContain(
      'review status approved -> in-progress: the sex changed to M; the bone age was estimated for F',
    );
    expect(refusal(approve)).toMatch(/estimated for a girl, but the patient is now recorded as a boy/);

    // a new estimate (for the boy) can be approved; a further estimate withdraws that approval
    expect((await boneage.estimateBoneAge({ imageId })).ok).toBe(true);
    expect(approve().status).toBe('approved');
    expect((await boneage.estimateBoneAge({ imageId })).ok).toBe(true);
    expect(store.loadStudy(imageId).review.status).toBe('in-progress');
    expect(store.auditLog(imageId).map((e) => e.summary)).toContain(
      'review status approved -> in-progress: a new bone-age estimate replaced the approved one',
    );
  });
});
