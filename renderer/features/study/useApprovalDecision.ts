/**
 * What the approval rules (core/review) say about the study as it is now: anatomical plausibility, the
 * model's own quality verdict, the whole-image kind (a hand-wrist film is no cephalogram), and the decision.
 */
import { useEffect, useMemo, useState } from 'react';
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
  // The whole-image classifier's kind (hand-wrist, other) also decides whether a CVM stage may be approved.
  const [imageKind, setImageKind] = useState<ApprovalInput['imageKind']>(null);
  useEffect(() => {
    let live = true;
    void api.getBoneAge({ imageId: detail.imageId }).then((r) => {
      if (live && r.ok && r.value.kind)
        setImageKind({
          kind: r.value.kind.kind,
          uncertain: r.value.kind.uncertain,
          probability: r.value.kind.probabilities[r.value.kind.kind],
        });
    });
    return () => {
      live = false;
    };
  }, [detail.imageId]);
  const decision = useMemo(
    () =>
      approvalDecision({
        landmarks: Object.keys(landmarks).length > 0 ? landmarks : null,
        ai,
        spacing,
        quality: modelQuality,
        stageError: assessment && !assessment.ok ? assessment.error.message : null,
        imageKind,
      }),
    [landmarks, ai, spacing, modelQuality, assessment, imageKind],
  );
  return { plausibility, modelQuality, decision };
}
