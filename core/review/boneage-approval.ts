/**
 * When may the bone age of a hand-wrist radiograph be approved? What a reviewer approves is the latest bone-age
 * result as shown: the bone age, its interval and the sex it was estimated for. Used by approval.ts (one rule for
 * the renderer and for main, which enforces it):
 *
 * - refused: no bone age yet; the image is confidently not a hand; the patient's sex is unknown, or is no longer
 *   the sex the bone age was estimated for (estimate again first).
 * - confirm: the radiograph-kind classifier is unsure the image is a hand; the bone age is at the limit of the
 *   model's age range (the true value may lie beyond it); bone age and chronological age differ by more than
 *   3 reference SDs (more often a wrong sex, birth date or image than a real finding).
 * - allowed: otherwise.
 */
import { compareWithAge, formatYearsMonths, type Sex } from '../boneage/index';

/** What the rules need to know about the bone age of an image (BoneAgeView, core/api/boneage.ts, fits). */
export interface BoneAgeFacts {
  /** The latest result, null before the first estimate. */
  readonly latest: {
    readonly months: number;
    readonly interval: { readonly low: number; readonly high: number; readonly level: number };
    readonly sex: Sex;
  } | null;
  /** The patient's sex now on record (the file's PatientSex, else the sex entered in the app). */
  readonly sex: Sex | null;
  readonly chronologicalAgeYears: number | null;
}

export interface KindFacts {
  readonly kind: 'cephalogram' | 'hand' | 'other';
  readonly uncertain: boolean;
  readonly probability?: number;
}

export type BoneAgeApprovalDecision =
  | { readonly kind: 'allowed'; readonly plausibility: null }
  | { readonly kind: 'confirm'; readonly reasons: readonly string[]; readonly plausibility: null }
  | { readonly kind: 'refused'; readonly reasons: readonly string[]; readonly plausibility: null };

const SEX_WORD: Readonly<Record<Sex, string>> = { M: 'a boy', F: 'a girl' };
/** |bone age - chronological age| above this many reference SDs asks for a confirmation. */
export const BONE_AGE_CONFIRM_SD = 3;

const pct = (p: number | undefined): string => (p === undefined ? '' : ` (${Math.round(p * 100)}%)`);

/** One line naming what is approved: "bone age 11 y 4 mo (90% interval 10 y 1 mo to 12 y 7 mo), girl". */
export function boneAgeApprovalSubject(latest: NonNullable<BoneAgeFacts['latest']>): string {
  const i = latest.interval;
  return (
    `bone age ${formatYearsMonths(latest.months)} (${Math.round(i.level * 100)}% interval ` +
    `${formatYearsMonths(i.low)} to ${formatYearsMonths(i.high)}), ${latest.sex === 'M' ? 'boy' : 'girl'}`
  );
}

export function boneAgeApprovalDecision(facts: BoneAgeFacts, kind: KindFacts | null): BoneAgeApprovalDecision {
  const refused: string[] = [];
  const confirm: string[] = [];
  if (kind && kind.kind !== 'hand' && !kind.uncertain) {
    refused.push(
      `This image was recognised as ${kind.kind === 'cephalogram' ? 'a lateral cephalogram' : 'neither a hand nor a cephalogram'}${pct(kind.probability)}: a bone age cannot be approved for it.`,
    );
    return { kind: 'refused', reasons: refused, plausibility: null };
  }
  const latest = facts.latest;
  if (!latest) {
    return {
      kind: 'refused',
      reasons: ['There is no bone age to approve: estimate it first (it needs the patient’s sex).'],
      plausibility: null,
    };
  }
  if (facts.sex === null) {
    refused.push('The patient’s sex is not recorded: enter it, then estimate the bone age again before approving.');
  } else if (facts.sex !== latest.sex) {
    refused.push(
      `The bone age was estimated for ${SEX_WORD[latest.sex]}, but the patient is now recorded as ${SEX_WORD[facts.sex]}: estimate it again before approving.`,
    );
  }
  if (refused.length > 0) return { kind: 'refused', reasons: refused, plausibility: null };
  if (kind && kind.kind !== 'hand')
    confirm.push(
      `The image classifier is unsure this is a hand-wrist radiograph (most likely: ${kind.kind}${pct(kind.probability)}).`,
    );
  else if (kind?.uncertain)
    confirm.push(`The image classifier is unsure this is a hand-wrist radiograph${pct(kind.probability)}.`);
  // The estimate and its interval are clamped to the model's age range (core/boneage/estimate.ts), so a bone age
  // equal to an end of its own interval is one that was clamped.
  if (latest.months <= latest.interval.low || latest.months >= latest.interval.high) {
    confirm.push(
      `The bone age is at the limit of the model’s age range (${formatYearsMonths(latest.months)}): the true bone age may lie beyond it.`,
    );
  }
  const c = compareWithAge(latest.months, facts.chronologicalAgeYears, latest.sex);
  if (c && Math.abs(c.sdScore) > BONE_AGE_CONFIRM_SD) {
    confirm.push(
      `Bone age and chronological age differ by ${Math.abs(c.sdScore).toFixed(1)} SD (${Math.round(Math.abs(c.differenceMonths))} months ${c.differenceMonths > 0 ? 'advanced' : 'delayed'}): check the patient’s sex, date of birth and that the image is theirs.`,
    );
  }
  if (confirm.length > 0) return { kind: 'confirm', reasons: confirm, plausibility: null };
  return { kind: 'allowed', plausibility: null };
}
