/**
 * One study: the viewer with landmarks and outlines, the live stage panel, the landmark list, history and
 * review. Dragging a handle recomputes the stage in the same frame (core/cvm in the renderer); each
 * finished gesture is one undo step and one saved version.
 *
 * This file only composes. The parts:
 * - useStudyEditor: the stored study, its landmark history and the save queue;
 * - useStudyViewState: selection, landmark tool, dialogs and messages (state/study-view.ts, a pure reducer);
 * - useViewport, useDisplayWindow: where the image sits on screen, and its window/level;
 * - useApprovalDecision, useStudyCommands: the review rules and the commands that call the services;
 * - useStudyActions, useStudyKeyboard: one action table for toolbar and shortcuts;
 * - StudyToolbar, StudyMessages, StudyCanvas and the side panels: what is drawn.
 */
import { useCallback, useEffect, useMemo, useRef, type ReactNode } from 'react';
import type { LandmarkName } from '../../../core/landmarks/index';
import { expectedErrorsOf } from '../../canvas/confidence';
import { useWindowedCanvas } from '../../canvas/useWindowedCanvas';
import { isNudging } from '../../state/study-view';
import { saveWorklistSession } from '../../state/worklist-session';
import { HelpOverlay } from '../HelpOverlay';
import { Notice } from '../Notice';
import { GrowthTimeline } from '../pacs/GrowthTimeline';
import { ApprovalPanel, ConfirmApprovalDialog } from './ApprovalPanel';
import { BoneAgePanel } from './BoneAgePanel';
import { CalibrateDialog } from './CalibrateDialog';
import { HistoryPanel, LandmarkList } from './SidePanels';
import { StagePanel } from './StagePanel';
import { StudyCanvas } from './StudyCanvas';
import { StudyMessages } from './StudyMessages';
import { StudyToolbar, useSaveStateTitle } from './StudyToolbar';
import { useApprovalDecision } from './useApprovalDecision';
import { useDisplayWindow } from './useDisplayWindow';
import { useStudyActions } from './useStudyActions';
import { useStudyCommands } from './useStudyCommands';
import { useStudyEditor, type StudyEditor } from './useStudyEditor';
import { useStudyKeyboard } from './useStudyKeyboard';
import { useStudyViewState } from './useStudyViewState';
import { useViewport } from './useViewport';

export interface StudyViewProps {
  readonly imageId: number;
  readonly userName: string;
  readonly onBack: () => void;
  /** Opens another study (Approve and next). */
  readonly onOpen: (imageId: number) => void;
}

export function StudyView({ imageId, userName, onBack, onOpen }: StudyViewProps): ReactNode {
  const { editor, error } = useStudyEditor(imageId);
  if (error) {
    return (
      <div className="study-error">
        <Notice notice={{ kind: 'error', text: error }} />
        <button type="button" onClick={onBack}>
          Back to the worklist
        </button>
      </div>
    );
  }
  if (!editor)
    return (
      <div className="empty" role="status">
        Opening the study…
      </div>
    );
  return <StudyWorkspace key={imageId} editor={editor} userName={userName} onBack={onBack} onOpen={onOpen} />;
}

interface StudyWorkspaceProps {
  readonly editor: StudyEditor;
  readonly userName: string;
  readonly onBack: () => void;
  readonly onOpen: (imageId: number) => void;
}

function StudyWorkspace({ editor, userName, onBack, onOpen }: StudyWorkspaceProps): ReactNode {
  const { detail, image, landmarks, ai, assessment } = editor;
  const spacing = detail.info.spacing;
  const pixelSpacing = useMemo(() => (spacing ? { rowMm: spacing.rowMm, colMm: spacing.colMm } : null), [spacing]);
  const expectedErrors = useMemo(() => expectedErrorsOf(detail.ai?.modelRun?.quality), [detail.ai?.modelRun?.quality]);
  const viewerRef = useRef<HTMLDivElement>(null);

  const binding = useStudyViewState(editor);
  const { state, store, dispatch } = binding;
  const display = useDisplayWindow(image.pixels.windows);
  const windowed = useWindowedCanvas(image.pixels, display.displayWindow);
  const viewport = useViewport(image.pixels, spacing, binding.liveLandmarks);
  const { plausibility, modelQuality, decision, boneAge, setBoneAge } = useApprovalDecision(editor, pixelSpacing);
  const commands = useStudyCommands({
    editor,
    dispatch,
    decision,
    plausibility,
    modelQuality,
    image: windowed.canvas,
    userName,
    onOpen,
    boneAge,
  });
  const perform = useStudyActions({ editor, binding, viewport, display, commands, spacing: pixelSpacing, onBack });
  const finishNudge = useCallback(() => dispatch({ type: 'finishNudge' }), [dispatch]);
  const closeHelp = useCallback(() => dispatch({ type: 'help', open: false }), [dispatch]);
  useStudyKeyboard({ state, store, finishNudge, perform, closeHelp, viewer: viewerRef });

  useEffect(() => {
    saveWorklistSession({ lastOpened: detail.imageId });
  }, [detail.imageId]);
  const title = detail.info.meta.patientName ?? detail.info.fileName;
  useSaveStateTitle(editor.saveState, title);

  // A new bone age or sex may withdraw an approval on the server: the rules and the review status follow.
  const reloadStudy = editor.reload;
  const onBoneAgeChange = useCallback(
    (view: Parameters<typeof setBoneAge>[0]) => {
      setBoneAge(view);
      void reloadStudy();
    },
    [setBoneAge, reloadStudy],
  );
  const onResetLandmark = editor.resetToAi;
  const revertTo = editor.revertTo;
  const onRevert = useCallback((versionId: number) => void revertTo(versionId), [revertTo]);
  const hasLandmarks = Object.keys(landmarks).length > 0;
  const orientation = (
    detail.ai?.modelRun?.quality as { orientation?: { corrected?: boolean; detail?: string } } | null | undefined
  )?.orientation;
  const patientId = detail.info.meta.patientId;

  return (
    <div className="study">
      <StudyToolbar
        title={title}
        titleDetail={`${title}${patientId ? ` (${patientId})` : ''} — ${detail.info.fileName}`}
        busy={state.busy !== null}
        canUndo={editor.canUndo}
        canRedo={editor.canRedo}
        hasAi={ai !== null}
        hasLandmarks={hasLandmarks}
        windows={image.pixels.windows}
        presetIndex={display.presetIndex}
        inverted={display.displayWindow.invert}
        showGhosts={state.showGhosts}
        saveState={editor.saveState}
        editing={isNudging(state)}
        perform={perform}
        onChoosePreset={display.choosePreset}
        onBack={() => perform('worklist', false)}
        onHelp={() => dispatch({ type: 'help', open: true })}
      />
      <StudyMessages
        saveState={editor.saveState}
        busy={state.busy}
        message={state.message}
        quality={modelQuality}
        orientation={orientation}
        fileWarnings={detail.info.warnings ?? []}
        fileTurn={detail.info.turnedByTag}
        filePage={detail.info.pageShown}
        tool={state.tool}
        hasLandmarks={hasLandmarks}
        onReload={() => void editor.reload()}
        onCloseMessage={() => dispatch({ type: 'message', message: null })}
        onAnalyze={() => void commands.runAnalysis()}
        onPlace={() => perform('place', false)}
      />
      <div className="study-body">
        <StudyCanvas
          editor={editor}
          binding={binding}
          viewport={viewport}
          image={windowed}
          expectedErrors={expectedErrors}
          plausibility={plausibility}
          onWindowDrag={display.onWindowDrag}
          host={viewerRef}
        />
        <aside className="side" aria-label="Stage, review and landmarks">
          <ApprovalPanel
            review={detail.review}
            decision={decision}
            hasLandmarks={hasLandmarks}
            onApprove={() => void commands.approve(false)}
            onApproveNext={() => void commands.approve(true)}
            onReopen={() => void commands.reopen()}
          />
          {/* Read again after each model run: an analysis can change the image's kind (a hand verdict overruled). */}
          <BoneAgePanel
            key={`${detail.imageId}-${detail.ai?.modelRun?.runId ?? 0}`}
            imageId={detail.imageId}
            onChange={onBoneAgeChange}
          />
          <StagePanel
            detail={detail}
            assessment={assessment}
            reference={state.reference}
            plausibility={plausibility}
            onCalibrate={() => dispatch({ type: 'calibrate', points: null })}
            onPatientInfo={editor.setPatientInfo}
          />
          <LandmarkList
            landmarks={landmarks}
            ai={ai}
            spacing={pixelSpacing}
            expectedErrors={expectedErrors}
            selected={state.selected}
            flagged={plausibility?.landmarks ?? NONE}
            onSelect={(name) => dispatch({ type: 'select', name })}
            onReset={(name) => onResetLandmark([name])}
          />
          <HistoryPanel detail={detail} onRevert={onRevert} />
          <GrowthTimeline
            imageId={detail.imageId}
            version={`${detail.latest?.versionId ?? 0}-${detail.review.status}-${boneAge?.latest?.id ?? 0}`}
          />
        </aside>
      </div>
      {state.help && <HelpOverlay onClose={closeHelp} />}
      {state.confirming && (
        <ConfirmApprovalDialog
          reasons={state.confirming.reasons}
          onCancel={() => dispatch({ type: 'closeConfirm' })}
          onConfirm={(text) => {
            const next = store.getState().confirming?.next ?? false;
            dispatch({ type: 'closeConfirm' });
            void commands.approve(next, text);
          }}
        />
      )}
      {state.calibrate && (
        <CalibrateDialog
          points={state.calibrate.points}
          hasCalibration={detail.calibration !== null}
          aspect={detail.fileSpacing ? detail.fileSpacing.rowMm / detail.fileSpacing.colMm : 1}
          onMarkPoints={() => {
            dispatch({ type: 'closeCalibrate' });
            dispatch({ type: 'tool', event: { type: 'startCalibrating' } });
          }}
          onSubmit={editor.setCalibration}
          onClose={() => dispatch({ type: 'closeCalibrate' })}
        />
      )}
    </div>
  );
}

const NONE: readonly LandmarkName[] = [];
