/** The approval rules of a hand-wrist study (core/review/boneage-approval.ts through approvalDecision). */
import { describe, expect, it } from 'vitest';
import { approvalDecision, isBoneAgeStudy, type ApprovalInput } from '../../core/review/approval';
import { boneAgeApprovalDecision, boneAgeApprovalSubject, type BoneAgeFacts } from '../../core/review/boneage-approval';

const result = (months: number, sex: 'M' | 'F', low = months - 14, high = months + 14): BoneAgeFacts['latest'] => ({
  months,
  interval: { low, high, level: 0.9 },
  sex,
});
const hand = { kind: 'hand' as const, uncertain: false, probability: 0.99 };
const base: ApprovalInput = { landmarks: null, ai: null, spacing: null, quality: null, stageError: null };

describe('approving the bone age of a hand-wrist radiograph', () => {
  it('routes a hand to the bone-age rules only when the caller gives the bone age', () => {
    const facts: BoneAgeFacts = { latest: result(130, 'F'), sex: 'F', chronologicalAgeYears: 11 };
    expect(isBoneAgeStudy({ ...base, imageKind: hand, boneAge: facts })).toBe(true);
    expect(approvalDecision({ ...base, imageKind: hand, boneAge: facts }).kind).toBe('allowed');
    // an old caller that does not know the bone age: a hand is still refused a CVM stage
    const old = approvalDecision({ ...base, imageKind: hand });
    expect(old.kind === 'refused' && old.reasons[0]).toMatch(/hand-wrist radiograph \(99%\): it gets a bone age/);
    // no kind model, but a bone age and no landmarks: still a hand-wrist study
    expect(isBoneAgeStudy({ ...base, imageKind: null, boneAge: facts })).toBe(true);
    // a cephalogram with no bone age stays under the CVM rules
    const ceph = { kind: 'cephalogram' as const, uncertain: false };
    expect(
      isBoneAgeStudy({ ...base, imageKind: ceph, boneAge: { latest: null, sex: 'F', chronologicalAgeYears: null } }),
    ).toBe(false);
  });

  it('refuses without a bone age, without a sex, or when the sex changed since the estimate', () => {
    const none = boneAgeApprovalDecision({ latest: null, sex: 'M', chronologicalAgeYears: 10 }, hand);
    expect(none.kind === 'refused' && none.reasons[0]).toMatch(/no bone age to approve: estimate it first/);
    const noSex = boneAgeApprovalDecision({ latest: result(100, 'M'), sex: null, chronologicalAgeYears: null }, hand);
    expect(noSex.kind === 'refused' && noSex.reasons[0]).toMatch(/sex is not recorded/);
    const changed = boneAgeApprovalDecision({ latest: result(100, 'M'), sex: 'F', chronologicalAgeYears: null }, hand);
    expect(changed.kind === 'refused' && changed.reasons[0]).toMatch(
      /estimated for a boy, but the patient is now recorded as a girl: estimate it again/,
    );
  });

  it('refuses an image confidently recognised as something else', () => {
    const d = boneAgeApprovalDecision(
      { latest: result(100, 'M'), sex: 'M', chronologicalAgeYears: null },
      { kind: 'cephalogram', uncertain: false, probability: 0.97 },
    );
    expect(d.kind === 'refused' && d.reasons[0]).toMatch(/recognised as a lateral cephalogram \(97%\)/);
  });

  it('asks for a confirmation when the classifier is unsure, at the range limit, or beyond 3 SD of the age', () => {
    const unsure = boneAgeApprovalDecision(
      { latest: result(100, 'M'), sex: 'M', chronologicalAgeYears: null },
      { kind: 'hand', uncertain: true, probability: 0.55 },
    );
    expect(unsure.kind === 'confirm' && unsure.reasons).toEqual([
      'The image classifier is unsure this is a hand-wrist radiograph (55%).',
    ]);
    const clamped = boneAgeApprovalDecision(
      { latest: result(228, 'F', 205, 228), sex: 'F', chronologicalAgeYears: null },
      hand,
    );
    expect(clamped.kind === 'confirm' && clamped.reasons[0]).toMatch(/limit of the model’s age range \(19 y 0 mo\)/);
    // girls' reference SD 13.56 months: 3 SD = 40.7 months; 41 months advanced asks, 40 does not
    const far = boneAgeApprovalDecision({ latest: result(161, 'F'), sex: 'F', chronologicalAgeYears: 10 }, hand);
    expect(far.kind === 'confirm' && far.reasons[0]).toMatch(/differ by 3\.0 SD \(41 months advanced\)/);
    const near = boneAgeApprovalDecision({ latest: result(160, 'F'), sex: 'F', chronologicalAgeYears: 10 }, hand);
    expect(near.kind).toBe('allowed');
  });

  it('names what is approved', () => {
    expect(boneAgeApprovalSubject(result(136, 'F', 121.4, 150.6)!)).toBe(
      'bone age 11 y 4 mo (90% interval 10 y 1 mo to 12 y 7 mo), girl',
    );
  });
});
