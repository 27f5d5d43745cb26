/**
 * The study's commands that talk to the services: analyse, approve (asking for a confirmation when the
 * rules say "check") and open the next study, reopen, and write or print the report. Their progress and
 * outcome go to the view's busy line and message.
 */
import { useCallback } from 'react';
import type { BoneAgeView } from '../../../core/api/boneage';
import type { ApprovalDecision, ModelQuality } from '../../../core/review/approval';
import type { Plausibility } from '../../../core/review/plausibility';
import { api } from '../../api';
import type { StudyViewAction } from '../../state/study-view';
import { nextUnreviewed } from '../../state/worklist-session';
import { sentences } from '../format';
import type { StudyEditor } from './useStudyEditor';

export interface StudyCommands {
  runAnalysis(): Promise<void>;
  /** Approves, then opens the next study waiting for review when `next`. */
  approve(next: boolean, confirmation?: string): Promise<void>;
  reopen(): Promise<void>;
  exportReport(): Promise<void>;
  print(): Promise<void>;
}

export interface StudyCommandInput {
  readonly editor: StudyEditor;
  readonly dispatch: (action: StudyViewAction) => void;
  readonly decision: ApprovalDecision;
  readonly plausibility: Plausibility | null;
  readonly modelQuality: ModelQuality | null;
  readonly image: HTMLCanvasElement;
  readonly userName: string;
  readonly onOpen: (imageId: number) => void;
  /** A hand-wrist radiograph's bone-age view: its report is the bone-age report. */
  readonly boneAge?: BoneAgeView | null;
}

export function useStudyCommands({
  editor,
  dispatch,
  decision,
  plausibility,
  modelQuality,
  image,
  userName,
  onOpen,
  boneAge = null,
}: StudyCommandInput): StudyCommands {
  const { detail, landmarks, assessment } = editor;
  const reportInput = useCallback(
    () => ({
      detail,
      image,
      landmarks,
      assessment,
      plausibility,
      quality: modelQuality,
      author: userName,
      now: new Date(),
      boneAge,
    }),
    [detail, image, landmarks, assessment, plausibility, modelQuality, userName, boneAge],
  );

  const exportReport = useCallback(async () => {
    dispatch({ type: 'busy', busy: 'Writing the report…' });
    try {
      const { exportReport: writeReport } = await import('./report');
      const names = await writeReport(reportInput());
      dispatch({ type: 'message', message: { kind: 'info', text: `Report saved: ${names.join(' and ')}.` } });
    } catch (e) {
      const text = `The report could not be written: ${(e as Error).message}`;
      dispatch({ type: 'message', message: { kind: 'error', text } });
    } finally {
      dispatch({ type: 'busy', busy: null });
    }
  }, [reportInput, dispatch]);

  const print = useCallback(async () => {
    try {
      const { printReport } = await import('./report');
      await printReport(reportInput());
    } catch (e) {
      const text = `The report could not be printed: ${(e as Error).message}`;
      dispatch({ type: 'message', message: { kind: 'error', text } });
    }
  }, [reportInput, dispatch]);

  /**
   * The approved report page, drawn as the PNG/PDF report is, for the PACS's Secondary Capture (main sends
   * the approved result once it has the page). In the background: "approve and next" does not wait for it.
   */
  const keepApprovedPage = useCallback(async () => {
    const input = reportInput(); // now: "approve and next" opens another study meanwhile
    // Only a DICOM image's result goes to a PACS, and only when one is configured: nothing to draw otherwise.
    if (input.detail.info.format !== 'dicom') return;
    try {
      const settings = await api.pacsGetSettings({});
      if (!settings.ok || !settings.value.url) return;
      const fresh = await api.loadStudy({ imageId: input.detail.imageId });
      if (!fresh.ok) throw new Error(fresh.error.message);
      const { sendReportPage } = await import('./report');
      await sendReportPage({ ...input, detail: fresh.value, now: new Date() });
    } catch (e) {
      const text = `Approved, but the report page for the PACS could not be drawn: ${(e as Error).message}`;
      dispatch({ type: 'message', message: { kind: 'error', text } });
    }
  }, [reportInput, dispatch]);

  const runAnalysis = useCallback(async () => {
    dispatch({ type: 'busy', busy: 'Analysing…' });
    const err = await editor.analyze();
    dispatch({ type: 'busy', busy: null });
    dispatch({ type: 'message', message: err ? { kind: 'error', text: err } : null });
  }, [editor, dispatch]);

  const approve = useCallback(
    async (next: boolean, confirmation?: string) => {
      dispatch({ type: 'finishNudge' });
      if (detail.review.status === 'approved' && !confirmation) {
        if (!next) return;
      } else {
        if (decision.kind === 'refused') {
          const more = decision.reasons.length - 1;
          const tail = more > 0 ? ` (${more} more reason${more > 1 ? 's' : ''} under Review.)` : '';
          const text = `Not approved: ${sentences(decision.reasons.slice(0, 1))}${tail}`;
          dispatch({ type: 'message', message: { kind: 'error', text } });
          return;
        }
        if (decision.kind === 'confirm' && !confirmation) {
          dispatch({ type: 'confirm', reasons: decision.reasons, next });
          return;
        }
        const err = await editor.setReview('approved', confirmation);
        if (err) {
          dispatch({ type: 'message', message: { kind: 'error', text: err } });
          return;
        }
        void keepApprovedPage();
      }
      if (next) {
        const id = await nextUnreviewed(api, detail.imageId);
        if (id === null) {
          const text = 'Approved. No study after this one in the worklist is waiting for review.';
          dispatch({ type: 'message', message: { kind: 'info', text } });
          return;
        }
        onOpen(id);
      } else {
        dispatch({ type: 'message', message: null });
      }
    },
    [dispatch, detail.review.status, detail.imageId, decision, editor, onOpen, keepApprovedPage],
  );

  const reopen = useCallback(async () => {
    const err = await editor.setReview('in-progress');
    dispatch({ type: 'message', message: err ? { kind: 'error', text: err } : null });
  }, [editor, dispatch]);

  return { runAnalysis, approve, reopen, exportReport, print };
}
