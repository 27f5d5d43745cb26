/**
 * One study: the viewer with landmarks and outlines, the live stage panel, the landmark list, history and
 * review. Dragging a handle recomputes the stage in the same frame (core/cvm in the renderer); each
 * finished gesture is one undo step and one saved version.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { flushSync } from 'react-dom';
import type Konva from 'konva';
import type { WindowPreset } from '../../../core/api/index';
import type { Assessment } from '../../../core/cvm/index';
import { imagePoint, screenPoint, type ImagePoint } from '../../../core/geometry/index';
import { LANDMARK_NAMES, landmarkInfo, type LandmarkName, type LandmarkSet } from '../../../core/landmarks/index';
import { LandmarkLayers } from '../../canvas/LandmarkLayers';
import { Loupe } from '../../canvas/Loupe';
import { expectedErrorsOf } from '../../canvas/confidence';
import { landmarkBounds } from '../../canvas/outlines';
import { useWindowedCanvas } from '../../canvas/useWindowedCanvas';
import { Viewer } from '../../canvas/Viewer';
import {
  actualSizeTransform,
  fitRegion,
  fitTransform,
  imageToScreen,
  screenToImage,
  type Size,
  type ViewTransform,
} from '../../canvas/view-transform';
import type { DisplayWindow } from '../../canvas/window-level';
import { IDLE, step, type ToolEffect, type ToolEvent, type ToolState } from '../../tools/landmark-tool';
import {
  approvalDecision,
  modelQualityOf,
  type ApprovalDecision,
  type ApprovalInput,
} from '../../../core/review/approval';
import { checkPlausibility } from '../../../core/review/plausibility';
import { nextUnreviewed, saveWorklistSession } from '../../state/worklist-session';
import { api } from '../../api';
import { HelpOverlay } from '../HelpOverlay';
import { Notice, type NoticeState } from '../Notice';
import { sentences } from '../format';
import { ApprovalPanel, ConfirmApprovalDialog } from './ApprovalPanel';
import { CalibrateDialog } from './CalibrateDialog';
import { actionFor, type StudyAction } from './keyboard';
import { HistoryPanel, LandmarkList } from './SidePanels';
import { GrowthTimeline } from '../pacs/GrowthTimeline';
import { StagePanel } from './StagePanel';
import { BoneAgePanel } from './BoneAgePanel';
import { useStudyEditor, type SaveState, type StudyEditor } from './useStudyEditor';

export interface StudyViewProps {
  readonly imageId: number;
  readonly userName: string;
  readonly onBack: () => void;
  /** Opens another study (Approve and next). */
  readonly onOpen: (imageId: number) => void;
}

function saveLabel(s: SaveState): string {
  if (s.kind === 'saved') return 'Saved';
  if (s.kind === 'saving') return 'Saving…';
  if (s.kind === 'retrying') return 'Not saved yet: retrying';
  return 'Not saved';
}

function windowFromPreset(p: WindowPreset | undefined, invert: boolean): DisplayWindow {
  return p ? { center: p.center, width: p.width, invert } : { center: 32768, width: 65536, invert };
}

/** Arrow presses closer together than this belong to one gesture. */
const NUDGE_RUN_MS = 800;

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName))
  );
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

function StudyWorkspace({
  editor,
  userName,
  onBack,
  onOpen,
}: {
  editor: StudyEditor;
  userName: string;
  onBack: () => void;
  onOpen: (imageId: number) => void;
}): ReactNode {
  const { detail, image, landmarks, ai, assessment } = editor;
  const spacing = detail.info.spacing;
  const windows = image.pixels.windows;
  const [presetIndex, setPresetIndex] = useState(0);
  const [displayWindow, setDisplayWindow] = useState<DisplayWindow>(() => windowFromPreset(windows[0], false));
  const [view, setView] = useState<ViewTransform | null>(null);
  const [viewport, setViewport] = useState<Size | null>(null);
  const [tool, setTool] = useState<ToolState>(IDLE);
  const [selected, setSelected] = useState<LandmarkName | null>(null);
  const [showGhosts, setShowGhosts] = useState(true);
  const [help, setHelp] = useState(false);
  const [calibrate, setCalibrate] = useState<{ points: readonly [ImagePoint, ImagePoint] | null } | null>(null);
  const [reference, setReference] = useState<Assessment | null>(null);
  const [message, setMessage] = useState<NoticeState | null>(null);
  const [nudging, setNudging] = useState(false);
  const [confirming, setConfirming] = useState<{ reasons: readonly string[]; next: boolean } | null>(null);
  const autoFit = useRef<'image' | 'region' | null>('image');
  const nudgeTimer = useRef<number | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const windowed = useWindowedCanvas(image.pixels, displayWindow);
  const toolRef = useRef(tool);
  toolRef.current = tool;
  const nudge = useRef<{ name: LandmarkName; before: LandmarkSet } | null>(null);
  const liveLandmarks = useRef(landmarks);
  liveLandmarks.current = landmarks;
  const viewerRef = useRef<HTMLDivElement>(null);

  const expectedErrors = useMemo(() => expectedErrorsOf(detail.ai?.modelRun?.quality), [detail.ai?.modelRun?.quality]);
  const pixelSpacing = useMemo(() => (spacing ? { rowMm: spacing.rowMm, colMm: spacing.colMm } : null), [spacing]);

  const fitRegionOfInterest = useCallback(
    (size: Size) => {
      const bounds = landmarkBounds(liveLandmarks.current, spacing ? 8 / spacing.colMm : 80);
      return bounds ? fitRegion(bounds, size) : fitTransform(image.pixels, size);
    },
    [image.pixels, spacing],
  );

  // A resized window refits the image (or the C2-C4 region) unless the user zoomed or panned since; then
  // the point at the centre stays at the centre.
  const lastViewport = useRef<Size | null>(null);
  const onViewportSize = useCallback(
    (size: Size) => {
      const before = lastViewport.current;
      lastViewport.current = size;
      setViewport(size);
      setView((v) => {
        if (!v || autoFit.current === 'image') return fitTransform(image.pixels, size);
        if (autoFit.current === 'region') return fitRegionOfInterest(size);
        if (!before) return v;
        return { scale: v.scale, x: v.x + (size.width - before.width) / 2, y: v.y + (size.height - before.height) / 2 };
      });
    },
    [image.pixels, fitRegionOfInterest],
  );
  const onUserViewChange = useCallback((v: ViewTransform) => {
    autoFit.current = null;
    setView(v);
  }, []);

  useEffect(() => {
    saveWorklistSession({ lastOpened: detail.imageId });
  }, [detail.imageId]);

  const pixelSpacingForChecks = pixelSpacing;
  const plausibility = useMemo(
    () => (Object.keys(landmarks).length > 0 ? checkPlausibility(landmarks, pixelSpacingForChecks) : null),
    [landmarks, pixelSpacingForChecks],
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
  const decision: ApprovalDecision = useMemo(
    () =>
      approvalDecision({
        landmarks: Object.keys(landmarks).length > 0 ? landmarks : null,
        ai,
        spacing: pixelSpacingForChecks,
        quality: modelQuality,
        stageError: assessment && !assessment.ok ? assessment.error.message : null,
        imageKind,
      }),
    [landmarks, ai, pixelSpacingForChecks, modelQuality, assessment, imageKind],
  );

  useEffect(() => {
    const name = detail.info.meta.patientName ?? detail.info.fileName;
    const state =
      editor.saveState.kind === 'saved'
        ? 'Saved'
        : editor.saveState.kind === 'saving'
          ? '● Saving…'
          : editor.saveState.kind === 'retrying'
            ? '● Retrying save…'
            : '⚠ Not saved';
    document.title = `${state} — ${name} — CVM Workstation`;
  }, [editor.saveState, detail.info.meta.patientName, detail.info.fileName]);

  const applyEffect = useCallback(
    (effect: ToolEffect) => {
      if (effect.type === 'commit') {
        editor.commitGesture(effect.before, effect.moved, effect.after);
        setReference(null);
      } else if (effect.type === 'place') {
        editor.previewLandmarks(effect.landmarks);
      } else if (effect.type === 'calibrationPoints') {
        setCalibrate({ points: effect.points });
      }
    },
    [editor],
  );

  const send = useCallback(
    (event: ToolEvent) => {
      const { state, effect } = step(toolRef.current, event);
      toolRef.current = state;
      setTool(state);
      applyEffect(effect);
    },
    [applyEffect],
  );

  const finishNudge = useCallback(() => {
    if (nudgeTimer.current !== null) {
      window.clearTimeout(nudgeTimer.current);
      nudgeTimer.current = null;
    }
    const n = nudge.current;
    if (!n) return;
    nudge.current = null;
    setNudging(false);
    editor.commitGesture(n.before, [n.name]);
    setReference(null);
  }, [editor]);

  const moveSelected = useCallback(
    (dxMm: number, dyMm: number) => {
      if (!selected) return;
      const current = liveLandmarks.current[selected];
      if (!current) return;
      if (!nudge.current || nudge.current.name !== selected) {
        finishNudge();
        nudge.current = { name: selected, before: liveLandmarks.current };
        setNudging(true);
        setReference(assessment);
      }
      const dx = spacing ? dxMm / spacing.colMm : dxMm * 10;
      const dy = spacing ? dyMm / spacing.rowMm : dyMm * 10;
      const next = { ...liveLandmarks.current, [selected]: imagePoint(current.x + dx, current.y + dy) };
      liveLandmarks.current = next;
      editor.previewLandmarks(next);
    },
    [selected, spacing, editor, finishNudge, assessment],
  );

  const selectRelative = useCallback(
    (delta: number) => {
      const present = LANDMARK_NAMES.filter((n) => landmarks[n]);
      if (present.length === 0) return;
      const i = selected ? present.indexOf(selected) : -1;
      const next = present[(i + delta + present.length) % present.length]!;
      setSelected(next);
      // Keep the selected landmark on screen.
      const p = landmarks[next];
      if (p && view && viewport) {
        const s = imageToScreen(view, p);
        if (s.x < 40 || s.y < 40 || s.x > viewport.width - 40 || s.y > viewport.height - 40) {
          setView({
            scale: view.scale,
            x: viewport.width / 2 - p.x * view.scale,
            y: viewport.height / 2 - p.y * view.scale,
          });
        }
      }
    },
    [landmarks, selected, view, viewport],
  );

  const reportInput = useCallback(
    () => ({
      detail,
      image: windowed.canvas,
      landmarks,
      assessment,
      plausibility,
      quality: modelQuality,
      author: userName,
      now: new Date(),
    }),
    [detail, windowed.canvas, landmarks, assessment, plausibility, modelQuality, userName],
  );

  const exportReport = useCallback(async () => {
    setBusy('Writing the report…');
    try {
      const { exportReport: writeReport } = await import('./report');
      const names = await writeReport(reportInput());
      setMessage({ kind: 'info', text: `Report saved: ${names.join(' and ')}.` });
    } catch (e) {
      setMessage({ kind: 'error', text: `The report could not be written: ${(e as Error).message}` });
    } finally {
      setBusy(null);
    }
  }, [reportInput]);

  const print = useCallback(async () => {
    try {
      const { printReport } = await import('./report');
      await printReport(reportInput());
    } catch (e) {
      setMessage({ kind: 'error', text: `The report could not be printed: ${(e as Error).message}` });
    }
  }, [reportInput]);

  const runAnalysis = useCallback(async () => {
    setBusy('Analysing…');
    const err = await editor.analyze();
    setBusy(null);
    setMessage(err ? { kind: 'error', text: err } : null);
  }, [editor]);

  /** Approves (asking for a confirmation when the rules say "check"), then optionally opens the next study. */
  const approve = useCallback(
    async (next: boolean, confirmation?: string) => {
      finishNudge();
      if (detail.review.status === 'approved' && !confirmation) {
        if (!next) return;
      } else {
        if (decision.kind === 'refused') {
          const more = decision.reasons.length - 1;
          setMessage({
            kind: 'error',
            text: `Not approved: ${sentences(decision.reasons.slice(0, 1))}${more > 0 ? ` (${more} more reason${more > 1 ? 's' : ''} under Review.)` : ''}`,
          });
          return;
        }
        if (decision.kind === 'confirm' && !confirmation) {
          setConfirming({ reasons: decision.reasons, next });
          return;
        }
        const err = await editor.setReview('approved', confirmation);
        if (err) {
          setMessage({ kind: 'error', text: err });
          return;
        }
      }
      if (next) {
        const id = await nextUnreviewed(api, detail.imageId);
        if (id === null) {
          setMessage({
            kind: 'info',
            text: 'Approved. No study after this one in the worklist is waiting for review.',
          });
          return;
        }
        onOpen(id);
      } else {
        setMessage(null);
      }
    },
    [finishNudge, detail.review.status, detail.imageId, decision, editor, onOpen],
  );

  const reopen = useCallback(async () => {
    const err = await editor.setReview('in-progress');
    setMessage(err ? { kind: 'error', text: err } : null);
  }, [editor]);

  const perform = useCallback(
    (action: StudyAction, shift: boolean): boolean => {
      const stepMm = shift ? 1 : 0.1;
      switch (action) {
        case 'nextLandmark':
          selectRelative(1);
          return true;
        case 'previousLandmark':
          selectRelative(-1);
          return true;
        case 'deselect':
          if (toolRef.current.kind !== 'idle') send({ type: 'cancel' });
          else setSelected(null);
          return true;
        case 'nudgeLeft':
          moveSelected(-stepMm, 0);
          return selected !== null;
        case 'nudgeRight':
          moveSelected(stepMm, 0);
          return selected !== null;
        case 'nudgeUp':
          moveSelected(0, -stepMm);
          return selected !== null;
        case 'nudgeDown':
          moveSelected(0, stepMm);
          return selected !== null;
        case 'undo':
          finishNudge();
          editor.undo();
          return true;
        case 'redo':
          finishNudge();
          editor.redo();
          return true;
        case 'resetLandmark':
          if (selected) editor.resetToAi([selected]);
          return true;
        case 'resetAll':
          editor.resetToAi(LANDMARK_NAMES);
          return true;
        case 'fit':
          autoFit.current = 'image';
          if (viewport) setView(fitTransform(image.pixels, viewport));
          return true;
        case 'actualSize':
          autoFit.current = null;
          if (viewport && view) setView(actualSizeTransform(view, viewport));
          return true;
        case 'region':
          autoFit.current = 'region';
          if (viewport) setView(fitRegionOfInterest(viewport));
          return true;
        case 'invert':
          setDisplayWindow((w) => ({ ...w, invert: !w.invert }));
          return true;
        case 'nextWindow': {
          const i = (presetIndex + 1) % windows.length;
          setPresetIndex(i);
          setDisplayWindow((w) => windowFromPreset(windows[i], w.invert));
          return true;
        }
        case 'autoWindow': {
          const i = windows.length - 1;
          setPresetIndex(i);
          setDisplayWindow((w) => windowFromPreset(windows[i], w.invert));
          return true;
        }
        case 'ghosts':
          setShowGhosts((g) => !g);
          return true;
        case 'analyze':
          void runAnalysis();
          return true;
        case 'place':
          send({ type: 'startPlacing', landmarks });
          return true;
        case 'calibrate':
          setCalibrate({ points: null });
          return true;
        case 'approve':
          void approve(false);
          return true;
        case 'approveNext':
          void approve(true);
          return true;
        case 'report':
          void exportReport();
          return true;
        case 'print':
          void print();
          return true;
        case 'help':
          setHelp((h) => !h);
          return true;
        case 'worklist':
          finishNudge();
          onBack();
          return true;
      }
    },
    [
      selectRelative,
      send,
      moveSelected,
      selected,
      finishNudge,
      editor,
      viewport,
      view,
      image.pixels,
      fitRegionOfInterest,
      presetIndex,
      windows,
      runAnalysis,
      landmarks,
      approve,
      exportReport,
      print,
      onBack,
    ],
  );

  useEffect(() => {
    const down = (e: KeyboardEvent): void => {
      if (isTyping(e.target) || calibrate || confirming || (help && e.key !== 'Escape' && e.key !== '?')) return;
      if (help && (e.key === 'Escape' || e.key === '?')) {
        setHelp(false);
        e.preventDefault();
        return;
      }
      // Buttons, links and list items handle Enter and Space themselves.
      if (
        (e.key === 'Enter' || e.key === ' ') &&
        !e.ctrlKey &&
        !e.metaKey &&
        e.target instanceof HTMLElement &&
        e.target.closest('button, a, summary')
      )
        return;
      if (e.key.startsWith('Arrow') && nudgeTimer.current !== null) {
        window.clearTimeout(nudgeTimer.current);
        nudgeTimer.current = null;
      }
      const action = actionFor(e);
      if (!action) return;
      // Tab cycles landmarks only while the image has the focus; elsewhere it moves focus as usual.
      const onImage =
        document.activeElement === document.body || viewerRef.current?.contains(document.activeElement) === true;
      if ((action === 'nextLandmark' || action === 'previousLandmark') && !onImage) return;
      if (perform(action, e.shiftKey)) e.preventDefault();
    };
    // A run of arrow presses is one gesture (one undo step, one saved version): it ends when no arrow key
    // follows within a moment, or at once when anything else happens.
    const up = (e: KeyboardEvent): void => {
      if (!e.key.startsWith('Arrow') || !nudge.current) return;
      if (nudgeTimer.current !== null) window.clearTimeout(nudgeTimer.current);
      nudgeTimer.current = window.setTimeout(() => {
        nudgeTimer.current = null;
        finishNudge();
      }, NUDGE_RUN_MS);
    };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, [perform, finishNudge, calibrate, help, confirming]);
  // Leaving the study ends a keyboard run: it is saved, not lost.
  const finishNudgeRef = useRef(finishNudge);
  finishNudgeRef.current = finishNudge;
  useEffect(() => () => finishNudgeRef.current(), []);

  // Drag handling: preview on every move (stage recomputed in the same frame), commit once at the end.
  const onDragStart = useCallback(
    (name: LandmarkName) => {
      finishNudge();
      setSelected(name);
      setReference(assessment);
      send({ type: 'dragStart', name, landmarks: liveLandmarks.current });
    },
    [send, assessment, finishNudge],
  );
  const onDragMove = useCallback(
    (name: LandmarkName, x: number, y: number) => {
      const next = { ...liveLandmarks.current, [name]: imagePoint(x, y) };
      liveLandmarks.current = next;
      // Render now, inside this mouse move, rather than in a later scheduler task: the stage panel is
      // then up to date before the browser paints the moved handle.
      flushSync(() => editor.previewLandmarks(next));
      if (toolRef.current.kind === 'dragging' && !toolRef.current.moved) send({ type: 'dragMove' });
    },
    [editor, send],
  );
  const onDragEnd = useCallback(() => send({ type: 'dragEnd' }), [send]);
  const onHover = useCallback((name: LandmarkName | null) => send({ type: 'hover', name }), [send]);
  const onSelect = useCallback((name: LandmarkName) => setSelected(name), []);

  const onBackgroundPointerDown = useCallback(
    (e: Konva.KonvaEventObject<MouseEvent>): boolean => {
      viewerRef.current?.focus();
      const kind = toolRef.current.kind;
      if (kind !== 'placing' && kind !== 'calibrating') return false;
      const pointer = e.target.getStage()?.getPointerPosition();
      if (!pointer || !view) return true;
      send({
        type: 'click',
        at: screenToImage(view, screenPoint(pointer.x, pointer.y)),
        landmarks: liveLandmarks.current,
      });
      return true;
    },
    [send, view],
  );

  const onWindowDrag = useCallback((dx: number, dy: number) => {
    setDisplayWindow((w) => ({
      ...w,
      width: Math.max(2, w.width * Math.exp(dx * 0.005)),
      center: w.center - dy * (w.width / 400),
    }));
  }, []);

  const onResetLandmark = useCallback((name: LandmarkName) => editor.resetToAi([name]), [editor]);
  const revertTo = editor.revertTo;
  const onRevert = useCallback((versionId: number) => void revertTo(versionId), [revertTo]);

  const dragging = tool.kind === 'dragging' ? tool.name : null;
  const loupeTarget = dragging ?? (nudge.current ? nudge.current.name : null);
  const loupePoint = loupeTarget ? landmarks[loupeTarget] : undefined;
  const hasLandmarks = Object.keys(landmarks).length > 0;
  const orientation = (
    detail.ai?.modelRun?.quality as { orientation?: { corrected?: boolean; detail?: string } } | null | undefined
  )?.orientation;
  const title = detail.info.meta.patientName ?? detail.info.fileName;
  const qualityNotice: NoticeState | null =
    modelQuality && modelQuality.verdict && modelQuality.verdict !== 'ok'
      ? modelQuality.verdict === 'failed' || modelQuality.notCephalogram
        ? {
            kind: 'error',
            text: modelQuality.notCephalogram
              ? 'This image does not look like a lateral cephalogram: the model drew no landmarks, and no stage can be given or approved.'
              : 'The model did not find C2–C4 on this image: it may not be a lateral cephalogram, or the vertebrae are not visible. Do not rely on these landmarks.',
            details: modelQuality.notCephalogramReason ? [modelQuality.notCephalogramReason] : modelQuality.problems,
          }
        : {
            kind: 'warning',
            text: `The model is not confident on this image. Check every landmark before relying on the stage. ${sentences(modelQuality.problems.slice(0, 1))}`,
            details: modelQuality.problems.slice(1),
          }
      : null;

  return (
    <div className="study">
      <div className="study-toolbar" role="toolbar" aria-label="Study tools">
        <button
          type="button"
          onClick={() => {
            finishNudge();
            onBack();
          }}
          title="Back to the worklist (Backspace)"
        >
          ◀ Worklist
        </button>
        <h1
          className="study-title"
          title={`${title}${detail.info.meta.patientId ? ` (${detail.info.meta.patientId})` : ''} — ${detail.info.fileName}`}
        >
          {title}
        </h1>
        <button
          type="button"
          onClick={() => void runAnalysis()}
          disabled={busy !== null}
          data-testid="analyze"
          title="Run the AI analysis (Shift+A)"
        >
          Analyze
        </button>
        <button
          type="button"
          onClick={() => perform('place', false)}
          data-testid="place"
          title="Place the landmarks by clicking (P)"
        >
          Place
        </button>
        <span className="sep" />
        <button
          type="button"
          onClick={() => perform('undo', false)}
          disabled={!editor.canUndo}
          data-testid="undo"
          title="Undo (Ctrl+Z)"
        >
          Undo
        </button>
        <button
          type="button"
          onClick={() => perform('redo', false)}
          disabled={!editor.canRedo}
          data-testid="redo"
          title="Redo (Ctrl+Shift+Z)"
        >
          Redo
        </button>
        <button
          type="button"
          onClick={() => perform('resetAll', false)}
          disabled={!ai}
          title="Reset all landmarks to the AI prediction (Shift+X)"
        >
          Reset all
        </button>
        <span className="sep" />
        <label className="inline" title="Window/level preset (W)">
          W/L
          <select
            value={presetIndex}
            data-testid="window-preset"
            title={windows[presetIndex]?.name}
            onChange={(e) => {
              const i = Number(e.target.value);
              setPresetIndex(i);
              setDisplayWindow((w) => windowFromPreset(windows[i], w.invert));
            }}
          >
            {windows.map((w, i) => (
              <option key={`${w.name}-${i}`} value={i}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          aria-pressed={displayWindow.invert}
          onClick={() => perform('invert', false)}
          title="Invert (I)"
        >
          Invert
        </button>
        <button type="button" onClick={() => perform('fit', false)} title="Fit (F)">
          Fit
        </button>
        <button
          type="button"
          onClick={() => perform('actualSize', false)}
          title="One image pixel per screen pixel (1)"
          aria-label="1:1 (one image pixel per screen pixel)"
        >
          1:1
        </button>
        <button
          type="button"
          onClick={() => perform('region', false)}
          disabled={!hasLandmarks}
          data-testid="zoom-region"
          title="Zoom to C2-C4 (R)"
        >
          C2–C4
        </button>
        <button
          type="button"
          aria-pressed={showGhosts}
          onClick={() => perform('ghosts', false)}
          title="AI prediction as ghosts (G)"
        >
          Ghosts
        </button>
        <span className="sep" />
        <button
          type="button"
          onClick={() => perform('report', false)}
          data-testid="export-report"
          title="Save the report as PDF and PNG (Ctrl+E)"
        >
          Report
        </button>
        <button
          type="button"
          onClick={() => perform('print', false)}
          data-testid="print-report"
          title="Print the report (Ctrl+P)"
        >
          Print
        </button>
        <span className="spacer" />
        <span
          className={`save-state ${nudging ? 'saving' : editor.saveState.kind}`}
          data-testid="save-state"
          role="status"
          title={editor.saveState.kind === 'error' ? editor.saveState.message : undefined}
        >
          {nudging ? 'Editing…' : saveLabel(editor.saveState)}
        </span>
        <button
          type="button"
          onClick={() => setHelp(true)}
          title="Keyboard shortcuts (?)"
          aria-label="Keyboard shortcuts"
        >
          ?
        </button>
      </div>
      <div className="study-messages">
        {editor.saveState.kind === 'error' && (
          <Notice
            notice={{ kind: 'error', text: `Your last change was not saved: ${editor.saveState.message}` }}
            testId="save-error"
          />
        )}
        {editor.saveState.kind === 'error' && (
          <div className="notice-actions">
            <button
              type="button"
              onClick={() => void editor.reload()}
              title="Load the last saved version from the database"
            >
              Reload the saved version
            </button>
          </div>
        )}
        {busy && <Notice notice={{ kind: 'info', text: busy }} testId="busy" />}
        {message && !busy && <Notice notice={message} onClose={() => setMessage(null)} testId="message" />}
        {qualityNotice && <Notice notice={qualityNotice} testId="quality-warning" />}
        {orientation?.corrected && (
          <div className="guide" role="status" data-testid="orientation-note">
            Orientation: {orientation.detail}.
          </div>
        )}
        {(detail.info.warnings?.length ?? 0) > 0 && (
          <Notice
            notice={{
              kind: 'warning',
              text: `This file is damaged or has unusable values: ${detail.info.warnings!.join('; ')}`,
            }}
            testId="file-warning"
          />
        )}
        {tool.kind === 'placing' && (
          <div className="guide" role="status" data-testid="placing-guide">
            Click <strong>{tool.next}</strong>: {landmarkInfo(tool.next).label} ({LANDMARK_NAMES.indexOf(tool.next) + 1}
            /13). Esc cancels.
          </div>
        )}
        {tool.kind === 'calibrating' && (
          <div className="guide" role="status">
            Click the {tool.points.length === 0 ? 'first' : 'second'} end of a known distance. Esc cancels.
          </div>
        )}
        {!hasLandmarks && tool.kind === 'idle' && (
          <div className="guide" role="status">
            No landmarks yet.{' '}
            <button type="button" className="link" onClick={() => void runAnalysis()}>
              Analyze with the model
            </button>{' '}
            or{' '}
            <button type="button" className="link" onClick={() => perform('place', false)}>
              place them by hand
            </button>
            .
          </div>
        )}
      </div>
      <div className="study-body">
        <div
          className="viewer-host"
          ref={viewerRef}
          tabIndex={0}
          role="application"
          aria-label="Radiograph: Tab selects landmarks, arrow keys move them, F fits, R zooms to C2-C4"
          data-landmarks={JSON.stringify(landmarks)}
          data-selected={selected ?? ''}
          data-flagged={(plausibility?.landmarks ?? []).join(',')}
        >
          <Viewer
            image={windowed}
            view={view}
            onViewChange={onUserViewChange}
            onViewportSize={onViewportSize}
            onBackgroundPointerDown={onBackgroundPointerDown}
            onWindowDrag={onWindowDrag}
            cursor={tool.kind === 'placing' || tool.kind === 'calibrating' ? 'crosshair' : undefined}
          >
            {view && (
              <LandmarkLayers
                landmarks={landmarks}
                ai={ai}
                expectedErrors={expectedErrors}
                scale={view.scale}
                selected={selected}
                hover={tool.kind === 'idle' ? tool.hover : null}
                showGhosts={showGhosts}
                flagged={plausibility?.landmarks ?? NONE}
                flagSeverity={plausibility?.verdict ?? 'ok'}
                draggable={tool.kind === 'idle' || tool.kind === 'dragging'}
                onDragStart={onDragStart}
                onDragMove={onDragMove}
                onDragEnd={onDragEnd}
                onHover={onHover}
                onSelect={onSelect}
              />
            )}
          </Viewer>
          {loupePoint && view && (
            <Loupe
              source={windowed.canvas}
              at={loupePoint}
              screen={imageToScreen(view, loupePoint)}
              viewScale={view.scale}
            />
          )}
        </div>
        <aside className="side" aria-label="Stage, review and landmarks">
          <ApprovalPanel
            review={detail.review}
            decision={decision}
            hasLandmarks={hasLandmarks}
            onApprove={() => void approve(false)}
            onApproveNext={() => void approve(true)}
            onReopen={() => void reopen()}
          />
          <BoneAgePanel imageId={detail.imageId} />
          <StagePanel
            detail={detail}
            assessment={assessment}
            reference={reference}
            plausibility={plausibility}
            onCalibrate={() => setCalibrate({ points: null })}
            onPatientInfo={editor.setPatientInfo}
          />
          <LandmarkList
            landmarks={landmarks}
            ai={ai}
            spacing={pixelSpacing}
            expectedErrors={expectedErrors}
            selected={selected}
            flagged={plausibility?.landmarks ?? NONE}
            onSelect={setSelected}
            onReset={onResetLandmark}
          />
          <HistoryPanel detail={detail} onRevert={onRevert} />
          <GrowthTimeline
            imageId={detail.imageId}
            version={`${detail.latest?.versionId ?? 0}-${detail.review.status}`}
          />
        </aside>
      </div>
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
      {confirming && (
        <ConfirmApprovalDialog
          reasons={confirming.reasons}
          onCancel={() => setConfirming(null)}
          onConfirm={(text) => {
            const next = confirming.next;
            setConfirming(null);
            void approve(next, text);
          }}
        />
      )}
      {calibrate && (
        <CalibrateDialog
          points={calibrate.points}
          hasCalibration={detail.calibration !== null}
          aspect={detail.fileSpacing ? detail.fileSpacing.rowMm / detail.fileSpacing.colMm : 1}
          onMarkPoints={() => {
            setCalibrate(null);
            send({ type: 'startCalibrating' });
          }}
          onSubmit={editor.setCalibration}
          onClose={() => setCalibrate(null)}
        />
      )}
    </div>
  );
}

const NONE: readonly LandmarkName[] = [];
