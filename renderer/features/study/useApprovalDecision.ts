/**
 * What the approval rules (core/review) say about the study as it is now: anatomical plausibility, the
 * model's own quality verdict, the whole-image kind (a hand-wrist film is no cephalogram), and the decision.
 * For a hand-wrist radiograph the decision is about its bone age (core/review/boneage-approval.ts): the
 * bone-age view is kept here, and the bone-age panel hands back every view it receives (`setBoneAge`).
 */
import { useEffect, useMemo, useState } from 'react';
import type { BoneAgeView } from '../../../core/api/boneage';
import {
  approvalDecision,
  modelQualityOf,
  type ApprovalDecision,
  type ApprovalInput,
  type ModelQuality,
} from '../../../core/review/approval';
import { checkPlausibility, type Plausibility } from '../../../core/review/plausibility';
import { api } from '../../api';
import type { StudyEditor } from './useStudyEditor';

export interface ApprovalState {
  readonly plausibility: Plausibility | null;
  readonly modelQuality: ModelQuality | null;
  readonly decision: ApprovalDecision;
  /** The image's bone-age view (kind, sex, latest result), null until loaded. */
  readonly boneAge: BoneAgeView | null;
  readonly setBoneAge: (view: BoneAgeView) => void;
}

export function useApprovalDecision(
  editor: StudyEditor,
  spacing: { readonly rowMm: number; readonly colMm: number } | null,
): ApprovalState {
  const { detail, landmarks, ai, assessment } = editor;
  const plausibility = useMemo(
    () => (Object.keys(landmarks).length > 0 ? checkPlausibility(landmarks, spacing) : null),
    [landmarks, spacing],
  );
  const modelQuality = useMemo(() => modelQualityOf(detail.ai?.modelRun?.quality), [detail.ai]);
  // The whole-image classifier's kind (hand-wrist, other) also decides whether a CVM stage may be approved. Read
  // again after each model run: an analysis can change the kind (a hand verdict the landmark model overruled).
  const [boneAge, setBoneAge] = useState<BoneAgeView | null>(null);
  const runId = detail.ai?.modelRun?.runId ?? 0;
  useEffect(() => {
    let live = true;
    setBoneAge(null);
    void api.getBoneAge({ imageId: detail.imageId }).then((r) => {
      if (live && r.ok) setBoneAge(r.value);
    });
    return () => {
      live = false;
    };
  }, [detail.imageId, runId]);
  const imageKind = useMemo<ApprovalInput['imageKind']>(() => {
    const k = boneAge?.imageId === detail.imageId ? boneAge.kind : null;
    return k ? { kind: k.kind, uncertain: k.uncertain, probability: k.probabilities[k.kind] } : null;
  }, [boneAge, detail.imageId]);
  const boneAgeFacts = boneAge?.imageId === detail.imageId ? boneAge : null;
  const decision = useMemo(
    () =>
      approvalDecision({
        landmarks: Object.keys(landmarks).length > 0 ? landmarks : null,
        ai,
        spacing,
        quality: modelQuality,
        stageError: assessment && !assessment.ok ? assessment.error.message : null,
        imageKind,
        // only once known: until then a hand is refused as before (never approvable by accident)
        ...(boneAgeFacts ? { boneAge: boneAgeFacts } : {}),
      }),
    [landmarks, ai, spacing, modelQuality, assessment, imageKind, boneAgeFacts],
  );
  return { plausibility, modelQuality, decision, boneAge: boneAgeFacts, setBoneAge };
}
