/**
 * When may a study be approved? One pure rule used by the renderer (to explain a refusal in place, and to
 * ask for a confirmation before sending) and by main (which enforces it, whatever the client says):
 *
 * - refused: no landmarks or not all 13; the image is not a lateral cephalogram (the model found no C2-C4
 *   and nobody corrected its points); the configuration is anatomically impossible (see plausibility.ts);
 *   the stage cannot be computed from the points.
 * - confirm: something is unusual ("check"): approving then needs an explicit confirmation, recorded in
 *   the audit log with the reasons the user saw.
 * - allowed: otherwise.
 *
 * A hand-wrist study (recognised as a hand, or with a bone age and no landmarks) is judged by the bone-age rules
 * instead (boneage-approval.ts) when the caller passes `boneAge`: what is approved there is the bone age.
 */
import type { PixelSpacingMm } from '../geometry/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../landmarks/index';
import { boneAgeApprovalDecision, type BoneAgeFacts } from './boneage-approval';
import { checkPlausibility, type Plausibility } from './plausibility';

/** What a model run said about the image, read leniently from the stored quality record. */
export interface ModelQuality {
  readonly verdict: 'ok' | 'uncertain' | 'failed' | null;
  readonly problems: readonly string[];
  /** True when the run found that the image is not a lateral cephalogram (or found no C2-C4 in it). */
  readonly notCephalogram: boolean;
  /** Why, in one sentence, when notCephalogram. */
  readonly notCephalogramReason: string | null;
  /** A shape model's verdict on the predicted configuration, when the run gave one. */
  readonly shapeVerdict: 'ok' | 'check' | 'implausible' | null;
  readonly shapeReason: string | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);

/** Reads the quality JSON stored with a model run (fields from different model versions may be absent). */
export function modelQualityOf(quality: unknown): ModelQuality | null {
  if (typeof quality !== 'object' || quality === null) return null;
  const q = quality as Record<string, unknown>;
  const verdict = q.verdict === 'ok' || q.verdict === 'uncertain' || q.verdict === 'failed' ? q.verdict : null;
  const problems = Array.isArray(q.problems) ? q.problems.filter((p): p is string => typeof p === 'string') : [];
  // A recogniser of the image kind: { imageKind: 'lateral-cephalogram' | 'other', imageKindReason } or { notCephalogram
  // }.
  const kind = (typeof q.imageKind === 'object' && q.imageKind !== null ? q.imageKind : null) as Record<
    string,
    unknown
  > | null;
  const kindValue = kind ? (kind.kind ?? kind.verdict ?? kind.label) : q.imageKind;
  // The inference pipeline's recogniser: { recognition: { lateralCephalogram, reason } }.
  const recognition = (typeof q.recognition === 'object' && q.recognition !== null ? q.recognition : null) as Record<
    string,
    unknown
  > | null;
  const notCeph =
    q.notCephalogram === true ||
    recognition?.lateralCephalogram === false ||
    (typeof kindValue === 'string' &&
      kindValue !== 'lateral-cephalogram' &&
      kindValue !== 'cephalogram' &&
      kindValue !== 'ok');
  // The shape model: { anatomy: { shapeDistance, limit, plausible } } (or a { shape: { verdict } } record).
  const anatomy = (typeof q.anatomy === 'object' && q.anatomy !== null ? q.anatomy : null) as Record<
    string,
    unknown
  > | null;
  const shape = (
    typeof q.shape === 'object' && q.shape !== null
      ? q.shape
      : typeof q.plausibility === 'object' && q.plausibility !== null
        ? q.plausibility
        : null
  ) as Record<string, unknown> | null;
  const sv =
    shape?.verdict ??
    (anatomy ? (anatomy.plausible === false ? 'implausible' : anatomy.plausible === true ? 'ok' : null) : null);
  const anatomyReason =
    anatomy && anatomy.plausible === false
      ? `The shape model finds C2-C4 implausible (shape distance ${Number(anatomy.shapeDistance).toFixed(0)}, plausible up to ${Number(anatomy.limit).toFixed(0)}).`
      : null;
  return {
    verdict,
    problems,
    notCephalogram: notCeph,
    notCephalogramReason: notCeph
      ? (str(recognition?.reason) ?? str(kind?.reason) ?? str(q.imageKindReason) ?? str(q.notCephalogramReason))
      : null,
    shapeVerdict: sv === 'ok' || sv === 'check' || sv === 'implausible' ? sv : null,
    shapeReason: shape
      ? (str(shape.reason) ?? str(shape.message) ?? (Array.isArray(shape.problems) ? str(shape.problems[0]) : null))
      : anatomyReason,
  };
}

export interface ApprovalInput {
  readonly landmarks: LandmarkSet | null;
  /** The model's prediction for this image, when there is one. */
  readonly ai: LandmarkSet | null;
  readonly spacing: PixelSpacingMm | null;
  readonly quality: ModelQuality | null;
  /** Why the stage cannot be computed from these landmarks (null when it can). */
  readonly stageError: string | null;
  /** The radiograph-kind classifier's verdict on the whole image, when one ran. */
  readonly imageKind?: {
    readonly kind: 'cephalogram' | 'hand' | 'other';
    readonly uncertain: boolean;
    readonly probability?: number;
  } | null;
  /**
   * The image's bone age (null: none estimated). When given, a hand-wrist study is judged by the bone-age
   * rules; when absent, a hand is refused a CVM stage as before.
   */
  readonly boneAge?: BoneAgeFacts | null;
}

/** Whether the approval of this image is the approval of its bone age (a hand-wrist study). */
export function isBoneAgeStudy(input: ApprovalInput): boolean {
  if (input.boneAge === undefined) return false;
  if (input.imageKind?.kind === 'hand') return true;
  const hasLandmarks = input.landmarks !== null && Object.keys(input.landmarks).length > 0;
  return !hasLandmarks && input.boneAge !== null && input.boneAge.latest !== null;
}

export type ApprovalDecision =
  | { readonly kind: 'allowed'; readonly plausibility: Plausibility | null }
  | { readonly kind: 'confirm'; readonly reasons: readonly string[]; readonly plausibility: Plausibility | null }
  | { readonly kind: 'refused'; readonly reasons: readonly string[]; readonly plausibility: Plausibility | null };

/** Names whose position is still the model's (unmoved). */
export function unmovedFromAi(landmarks: LandmarkSet, ai: LandmarkSet | null): LandmarkName[] {
  if (!ai) return [];
  return LANDMARK_NAMES.filter((n) => {
    const p = landmarks[n];
    const a = ai[n];
    return p !== undefined && a !== undefined && Math.abs(p.x - a.x) < 1e-6 && Math.abs(p.y - a.y) < 1e-6;
  });
}

export function approvalDecision(input: ApprovalInput): ApprovalDecision {
  if (isBoneAgeStudy(input)) {
    return boneAgeApprovalDecision(
      input.boneAge ?? { latest: null, sex: null, chronologicalAgeYears: null },
      input.imageKind ?? null,
    );
  }
  const { landmarks } = input;
  const present = landmarks ? LANDMARK_NAMES.filter((n) => landmarks[n] !== undefined) : [];
  const q = input.quality;
  const notCephReason = q?.notCephalogram
    ? `This image does not look like a lateral cephalogram${q.notCephalogramReason ? ` (${shorten(q.notCephalogramReason)})` : ''}: a stage cannot be approved for it.`
    : null;
  if ((!landmarks || present.length === 0) && notCephReason)
    return { kind: 'refused', reasons: [notCephReason], plausibility: null };
  // The whole-image classifier: a hand-wrist (or other) radiograph never gets a CVM stage, even placed by hand.
  const k = input.imageKind;
  if (k && k.kind !== 'cephalogram' && !k.uncertain) {
    const p = k.probability !== undefined ? ` (${Math.round(k.probability * 100)}%)` : '';
    return {
      kind: 'refused',
      reasons: [
        k.kind === 'hand'
          ? `This is a hand-wrist radiograph${p}: it gets a bone age, not a CVM stage.`
          : `This image is not a lateral cephalogram${p}: a CVM stage cannot be approved for it.`,
      ],
      plausibility: null,
    };
  }
  if (!landmarks || present.length === 0) {
    return {
      kind: 'refused',
      reasons: ['There are no landmarks to approve: analyse the image or place the 13 landmarks by hand.'],
      plausibility: null,
    };
  }
  if (present.length < LANDMARK_NAMES.length) {
    const missing = LANDMARK_NAMES.filter((n) => landmarks[n] === undefined);
    return {
      kind: 'refused',
      reasons: [
        `${missing.length} of the 13 landmarks are missing (${missing.join(', ')}): place them before approving.`,
      ],
      plausibility: null,
    };
  }
  const unmoved = unmovedFromAi(landmarks, input.ai);
  // Most points still where the model put them: what the model said about the image still applies.
  const mostlyModel = input.ai !== null && unmoved.length > LANDMARK_NAMES.length / 2;
  const refused: string[] = [];
  const confirm: string[] = [];
  if (notCephReason && mostlyModel) {
    refused.push(notCephReason);
  } else if (q?.verdict === 'failed' && mostlyModel) {
    refused.push(
      'The model did not find C2-C4 on this image (it may not be a lateral cephalogram, or the vertebrae are not visible): correct the landmarks by hand before approving.',
    );
  }
  const plausibility = checkPlausibility(landmarks, input.spacing);
  // Not a cephalogram: the geometry of points on something else says nothing more.
  if (refused.length > 0) return { kind: 'refused', reasons: refused, plausibility };
  for (const p of plausibility.problems) (p.severity === 'implausible' ? refused : confirm).push(p.message);
  if (input.stageError) refused.push(`The stage cannot be computed: ${input.stageError.replace(/\.$/, '')}.`);
  if (refused.length > 0) return { kind: 'refused', reasons: dedupe(refused), plausibility };
  if (q?.notCephalogram || q?.verdict === 'failed')
    confirm.push('The model did not find C2-C4 on this image; the landmarks were corrected by hand.');
  if (k && k.kind !== 'cephalogram')
    confirm.push(`The image classifier is unsure whether this is a lateral cephalogram (most likely: ${k.kind}).`);
  if (q?.shapeVerdict === 'implausible' && mostlyModel)
    confirm.push(q.shapeReason ?? 'The shape model finds this configuration unusual.');
  else if (q?.shapeVerdict === 'check')
    confirm.push(q.shapeReason ?? 'The shape model finds this configuration unusual.');
  if (q?.verdict === 'uncertain' && mostlyModel)
    confirm.push(
      `The model was not confident on this image${q.problems[0] ? ` (${q.problems[0].replace(/\.$/, '')})` : ''}.`,
    );
  if (confirm.length > 0) return { kind: 'confirm', reasons: dedupe(confirm), plausibility };
  return { kind: 'allowed', plausibility };
}

/** The first sentence of a long explanation, without its final stop. */
function shorten(text: string): string {
  const first = text.split(/(?<=[.;])\s/)[0] ?? text;
  return first.replace(/[.;,\s]+$/, '');
}

const dedupe = (items: readonly string[]): string[] => [...new Set(items)];
