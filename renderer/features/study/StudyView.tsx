/**
 * One study: the viewer with landmarks and outlines, the live stage panel, the landmark list, history and
 * review. Dragging a handle recomputes the stage in the same frame (core/cvm in the renderer); each
 * finished gesture is one undo step and one saved version.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { flushSync } from 'react-dom';
import type Konva from 'konva';
import type { WindowPreset } from '../../../core/api/index';
import type { ReviewStatus } from '../../../core/api/studies';
import type { Assessment } from '../../../core/cvm/index';
import { imagePoint, screenPoint, type ImagePoint } from '../../../core/geometry/index';
import { LANDMARK_NAMES, landmarkInfo, type LandmarkName, type LandmarkSet } from '../../../core/landmarks/index';
import { LandmarkLayers } from '../../canvas/LandmarkLayers';
import { Loupe } from '../../canvas/Loupe';
import { landmarkBounds } from '../../canvas/outlines';
import { useWindowedCanvas } from '../../canvas/useWindowedCanvas';
import { Viewer } from '../../canvas/Viewer';
import {
  actualSizeTransform, fitRegion, fitTransform, imageToScreen, screenToImage, type Size, type ViewTransform,
} from '../../canvas/view-transform';
import type { DisplayWindow } from '../../canvas/window-level';
import { IDLE, step, type ToolEffect, type ToolEvent, type ToolState } from '../../tools/landmark-tool';
import { HelpOverlay } from '../HelpOverlay';
import { CalibrateDialog } from './CalibrateDialog';
import { actionFor, type StudyAction } from './keyboard';
import { downloadCanvas, drawReport } from './report';
import { HistoryPanel, LandmarkList } from './SidePanels';
import { StagePanel } from './StagePanel';
import { useStudyEditor, type SaveState, type StudyEditor } from './useStudyEditor';

export interface StudyViewProps {
  readonly imageId: number;
  readonly userName: string;
  readonly onBack: () => void;
}

function saveLabel(s: SaveState): string {
  if (s.kind === 'saved') return 'Saved';
  if (s.kind === 'saving') return 'Saving…';
  if (s.kind === 'retrying') return `Not saved yet: connection lost, retrying (${s.pending} pending)`;
  return `Not saved: ${s.message}`;
}

function windowFromPreset(p: WindowPreset | undefined, invert: boolean): DisplayWindow {
  return p ? { center: p.center, width: p.width, invert } : { center: 32768, width: 65536, invert };
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));
}

export function StudyView({ imageId, userName, onBack }: StudyViewProps): ReactNode {
  const { editor, error } = useStudyEditor(imageId);
  if (error) {
    return (
      <div className="study-error">
        <p className="error" role="alert">{error}</p>
        <button type="button" onClick={onBack}>Back to the worklist</button>
      </div>
    );
  }
  if (!editor) return <div className="empty" role="status">Opening the study…</div>;
  return <StudyWorkspace key={imageId} editor={editor} userName={userName} onBack={onBack} />;
}

function StudyWorkspace({ editor, userName, onBack }: { editor: StudyEditor; userName: string; onBack: () => void }): ReactNode {
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
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const windowed = useWindowedCanvas(image.pixels, displayWindow);
  const toolRef = useRef(tool);
  toolRef.current = tool;
  const nudge = useRef<{ name: LandmarkName; before: LandmarkSet } | null>(null);
  const liveLandmarks = useRef(landmarks);
  liveLandmarks.current = landmarks;
  const viewerRef = useRef<HTMLDivElement>(null);

  const confidences = detail.ai?.modelRun?.confidences ?? {};
  const pixelSpacing = useMemo(() => (spacing ? { rowMm: spacing.rowMm, colMm: spacing.colMm } : null), [spacing]);

  const fitRegionOfInterest = useCallback((size: Size) => {
    const bounds = landmarkBounds(liveLandmarks.current, spacing ? 8 / spacing.colMm : 80);
    return bounds ? fitRegion(bounds, size) : fitTransform(image.pixels, size);
  }, [image.pixels, spacing]);

  const onViewportSize = useCallback((size: Size) => {
    setViewport(size);
    setView((v) => v ?? fitTransform(image.pixels, size));
  }, [image.pixels]);

  useEffect(() => {
    const name = detail.info.meta.patientName ?? detail.info.fileName;
    const state = editor.saveState.kind === 'saved' ? 'Saved' : editor.saveState.kind === 'saving' ? '● Saving…'
      : editor.saveState.kind === 'retrying' ? '● Retrying save…' : '⚠ Not saved';
    document.title = `${state} — ${name} — CVM Workstation`;
  }, [editor.saveState, detail.info.meta.patientName, detail.info.fileName]);

  const applyEffect = useCallback((effect: ToolEffect) => {
    if (effect.type === 'commit') {
      editor.commitGesture(effect.before, effect.moved, effect.after);
      setReference(null);
    } else if (effect.type === 'place') {
      editor.previewLandmarks(effect.landmarks);
    } else if (effect.type === 'calibrationPoints') {
      setCalibrate({ points: effect.points });
    }
  }, [editor]);

  const send = useCallback((event: ToolEvent) => {
    const { state, effect } = step(toolRef.current, event);
    toolRef.current = state;
    setTool(state);
    applyEffect(effect);
  }, [applyEffect]);

  const finishNudge = useCallback(() => {
    const n = nudge.current;
    if (!n) return;
    nudge.current = null;
    editor.commitGesture(n.before, [n.name]);
    setReference(null);
  }, [editor]);

  const moveSelected = useCallback((dxMm: number, dyMm: number) => {
    if (!selected) return;
    const current = liveLandmarks.current[selected];
    if (!current) return;
    if (!nudge.current || nudge.current.name !== selected) {
      finishNudge();
      nudge.current = { name: selected, before: liveLandmarks.current };
      setReference(assessment);
    }
    const dx = spacing ? dxMm / spacing.colMm : dxMm * 10;
    const dy = spacing ? dyMm / spacing.rowMm : dyMm * 10;
    const next = { ...liveLandmarks.current, [selected]: imagePoint(current.x + dx, current.y + dy) };
    liveLandmarks.current = next;
    editor.previewLandmarks(next);
  }, [selected, spacing, editor, finishNudge, assessment]);

  const selectRelative = useCallback((delta: number) => {
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
        setView({ scale: view.scale, x: viewport.width / 2 - p.x * view.scale, y: viewport.height / 2 - p.y * view.scale });
      }
    }
  }, [landmarks, selected, view, viewport]);

  const exportReport = useCallback(async () => {
    const canvas = drawReport({ detail, image: windowed.canvas, landmarks, assessment, author: userName, now: new Date() });
    const base = (detail.info.meta.patientId ?? detail.info.fileName).replace(/[^\w.-]+/g, '_');
    await downloadCanvas(canvas, `cvm-report-${base}.png`);
    setMessage('Report exported as PNG.');
  }, [detail, windowed.canvas, landmarks, assessment, userName]);

  const runAnalysis = useCallback(async () => {
    setBusy('Analysing…');
    const err = await editor.analyze();
    setBusy(null);
    setMessage(err ?? 'Analysis done: landmarks predicted by the model.');
  }, [editor]);

  const setReview = useCallback((status: ReviewStatus) => { void editor.setReview(status); }, [editor]);

  const perform = useCallback((action: StudyAction, shift: boolean): boolean => {
    const stepMm = shift ? 1 : 0.1;
    switch (action) {
      case 'nextLandmark': selectRelative(1); return true;
      case 'previousLandmark': selectRelative(-1); return true;
      case 'deselect':
        if (toolRef.current.kind !== 'idle') send({ type: 'cancel' }); else setSelected(null);
        return true;
      case 'nudgeLeft': moveSelected(-stepMm, 0); return selected !== null;
      case 'nudgeRight': moveSelected(stepMm, 0); return selected !== null;
      case 'nudgeUp': moveSelected(0, -stepMm); return selected !== null;
      case 'nudgeDown': moveSelected(0, stepMm); return selected !== null;
      case 'undo': finishNudge(); editor.undo(); return true;
      case 'redo': finishNudge(); editor.redo(); return true;
      case 'resetLandmark': if (selected) editor.resetToAi([selected]); return true;
      case 'resetAll': editor.resetToAi(LANDMARK_NAMES); return true;
      case 'fit': if (viewport) setView(fitTransform(image.pixels, viewport)); return true;
      case 'actualSize': if (viewport && view) setView(actualSizeTransform(view, viewport)); return true;
      case 'region': if (viewport) setView(fitRegionOfInterest(viewport)); return true;
      case 'invert': setDisplayWindow((w) => ({ ...w, invert: !w.invert })); return true;
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
      case 'ghosts': setShowGhosts((g) => !g); return true;
      case 'analyze': void runAnalysis(); return true;
      case 'place': send({ type: 'startPlacing', landmarks }); return true;
      case 'calibrate': setCalibrate({ points: null }); return true;
      case 'approve': setReview(detail.review.status === 'approved' ? 'in-progress' : 'approved'); return true;
      case 'report': void exportReport(); return true;
      case 'help': setHelp((h) => !h); return true;
      case 'worklist': onBack(); return true;
    }
  }, [selectRelative, send, moveSelected, selected, finishNudge, editor, viewport, view, image.pixels, fitRegionOfInterest,
    presetIndex, windows, runAnalysis, landmarks, setReview, detail.review.status, exportReport, onBack]);

  useEffect(() => {
    const down = (e: KeyboardEvent): void => {
      if (isTyping(e.target) || calibrate || (help && e.key !== 'Escape' && e.key !== '?')) return;
      if (help && (e.key === 'Escape' || e.key === '?')) { setHelp(false); e.preventDefault(); return; }
      const action = actionFor(e);
      if (!action) return;
      // Tab cycles landmarks only while the image has the focus; elsewhere it moves focus as usual.
      const onImage = document.activeElement === document.body || viewerRef.current?.contains(document.activeElement) === true;
      if ((action === 'nextLandmark' || action === 'previousLandmark') && !onImage) return;
      if (perform(action, e.shiftKey)) e.preventDefault();
    };
    const up = (e: KeyboardEvent): void => { if (e.key.startsWith('Arrow')) finishNudge(); };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => { window.removeEventListener('keydown', down); window.removeEventListener('keyup', up); };
  }, [perform, finishNudge, calibrate, help]);

  // Drag handling: preview on every move (stage recomputed in the same frame), commit once at the end.
  const onDragStart = useCallback((name: LandmarkName) => {
    finishNudge();
    setSelected(name);
    setReference(assessment);
    send({ type: 'dragStart', name, landmarks: liveLandmarks.current });
  }, [send, assessment, finishNudge]);
  const onDragMove = useCallback((name: LandmarkName, x: number, y: number) => {
    const next = { ...liveLandmarks.current, [name]: imagePoint(x, y) };
    liveLandmarks.current = next;
    // Render now, inside this mouse move, rather than in a later scheduler task: the stage panel is
    // then up to date before the browser paints the moved handle.
    flushSync(() => editor.previewLandmarks(next));
    if (toolRef.current.kind === 'dragging' && !toolRef.current.moved) send({ type: 'dragMove' });
  }, [editor, send]);
  const onDragEnd = useCallback(() => send({ type: 'dragEnd' }), [send]);
  const onHover = useCallback((name: LandmarkName | null) => send({ type: 'hover', name }), [send]);
  const onSelect = useCallback((name: LandmarkName) => setSelected(name), []);

  const onBackgroundPointerDown = useCallback((e: Konva.KonvaEventObject<MouseEvent>): boolean => {
    viewerRef.current?.focus();
    const kind = toolRef.current.kind;
    if (kind !== 'placing' && kind !== 'calibrating') return false;
    const pointer = e.target.getStage()?.getPointerPosition();
    if (!pointer || !view) return true;
    send({ type: 'click', at: screenToImage(view, screenPoint(pointer.x, pointer.y)), landmarks: liveLandmarks.current });
    return true;
  }, [send, view]);

  const onWindowDrag = useCallback((dx: number, dy: number) => {
    setDisplayWindow((w) => ({ ...w, width: Math.max(2, w.width * Math.exp(dx * 0.005)), center: w.center - dy * (w.width / 400) }));
  }, []);

  const onResetLandmark = useCallback((name: LandmarkName) => editor.resetToAi([name]), [editor]);
  const revertTo = editor.revertTo;
  const onRevert = useCallback((versionId: number) => void revertTo(versionId), [revertTo]);

  const dragging = tool.kind === 'dragging' ? tool.name : null;
  const loupeTarget = dragging ?? (nudge.current ? nudge.current.name : null);
  const loupePoint = loupeTarget ? landmarks[loupeTarget] : undefined;
  const hasLandmarks = Object.keys(landmarks).length > 0;
  const run = detail.ai?.modelRun ?? null;
  const quality = (run?.quality ?? null) as { verdict?: string; problems?: string[] } | null;

  return (
    <div className="study">
      <div className="study-toolbar" role="toolbar" aria-label="Study tools">
        <button type="button" onClick={onBack} title="Back to the worklist (Backspace)">◀ Worklist</button>
        <span className="study-title">{detail.info.meta.patientName ?? detail.info.fileName}</span>
        <button type="button" onClick={() => void runAnalysis()} disabled={busy !== null} data-testid="analyze" title="Run the AI analysis (Shift+A)">Analyze</button>
        <button type="button" onClick={() => perform('place', false)} data-testid="place" title="Place the landmarks by clicking (P)">Place</button>
        <span className="sep" />
        <button type="button" onClick={() => perform('undo', false)} disabled={!editor.canUndo} data-testid="undo" title="Undo (Ctrl+Z)">Undo</button>
        <button type="button" onClick={() => perform('redo', false)} disabled={!editor.canRedo} data-testid="redo" title="Redo (Ctrl+Shift+Z)">Redo</button>
        <button type="button" onClick={() => perform('resetAll', false)} disabled={!ai} title="Reset all landmarks to the AI prediction (Shift+X)">Reset all</button>
        <span className="sep" />
        <label className="inline">W/L
          <select value={presetIndex} data-testid="window-preset" onChange={(e) => {
            const i = Number(e.target.value); setPresetIndex(i); setDisplayWindow((w) => windowFromPreset(windows[i], w.invert));
          }}>
            {windows.map((w, i) => <option key={`${w.name}-${i}`} value={i}>{w.name}</option>)}
          </select>
        </label>
        <button type="button" aria-pressed={displayWindow.invert} onClick={() => perform('invert', false)} title="Invert (I)">Invert</button>
        <button type="button" onClick={() => perform('fit', false)} title="Fit (F)">Fit</button>
        <button type="button" onClick={() => perform('actualSize', false)} title="1:1 (1)">1:1</button>
        <button type="button" onClick={() => perform('region', false)} disabled={!hasLandmarks} data-testid="zoom-region" title="Zoom to C2-C4 (R)">C2–C4</button>
        <button type="button" aria-pressed={showGhosts} onClick={() => perform('ghosts', false)} title="AI prediction as ghosts (G)">Ghosts</button>
        <span className="sep" />
        <button type="button" onClick={() => perform('report', false)} data-testid="export-report" title="Export the report (Ctrl+E)">Report</button>
        <span className="spacer" />
        <span className={`save-state ${editor.saveState.kind}`} data-testid="save-state" role="status">{saveLabel(editor.saveState)}</span>
        {editor.saveState.kind === 'error' && (
          <button type="button" onClick={() => void editor.reload()} title="Load the last saved version from the database">Reload saved</button>
        )}
        <span className={`review ${detail.review.status}`} data-testid="review-status">
          {detail.review.status === 'approved' ? `Approved by ${detail.review.by ?? '—'}` : detail.review.status === 'in-progress' ? 'In progress' : 'Unreviewed'}
        </span>
        <button type="button" className={detail.review.status === 'approved' ? '' : 'primary'} data-testid="approve"
          onClick={() => perform('approve', false)} title="Approve (Ctrl+Enter)">
          {detail.review.status === 'approved' ? 'Reopen' : 'Approve'}
        </button>
        <button type="button" onClick={() => setHelp(true)} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">?</button>
      </div>
      {(message || busy) && <div className="message" role="status" data-testid="message">{busy ?? message}</div>}
      {quality?.verdict && quality.verdict !== 'ok' && (
        <div className="warning" role="alert" data-testid="quality-warning">
          The model is not confident on this image: {(quality.problems ?? []).join('; ') || quality.verdict}. Check every landmark before relying on the stage.
        </div>
      )}
      {(detail.info.warnings?.length ?? 0) > 0 && (
        <div className="warning" role="alert" data-testid="file-warning">
          This file is damaged or has unusable values: {detail.info.warnings!.join('; ')}
        </div>
      )}
      {tool.kind === 'placing' && (
        <div className="guide" role="status" data-testid="placing-guide">
          Click <strong>{tool.next}</strong>: {landmarkInfo(tool.next).label} ({LANDMARK_NAMES.indexOf(tool.next) + 1}/13). Esc cancels.
        </div>
      )}
      {tool.kind === 'calibrating' && (
        <div className="guide" role="status">Click the {tool.points.length === 0 ? 'first' : 'second'} end of a known distance. Esc cancels.</div>
      )}
      {!hasLandmarks && tool.kind === 'idle' && (
        <div className="guide" role="status">
          No landmarks yet. <button type="button" className="link" onClick={() => void runAnalysis()}>Analyze with the model</button> or{' '}
          <button type="button" className="link" onClick={() => perform('place', false)}>place them by hand</button>.
        </div>
      )}
      <div className="study-body">
        <div className="viewer-host" ref={viewerRef} tabIndex={0} aria-label="Radiograph: Tab selects landmarks, arrow keys move them"
          data-landmarks={JSON.stringify(landmarks)} data-selected={selected ?? ''}>
          <Viewer image={windowed} view={view} onViewChange={setView} onViewportSize={onViewportSize}
            onBackgroundPointerDown={onBackgroundPointerDown} onWindowDrag={onWindowDrag}
            cursor={tool.kind === 'placing' || tool.kind === 'calibrating' ? 'crosshair' : undefined}>
            {view && (
              <LandmarkLayers landmarks={landmarks} ai={ai} confidences={confidences} scale={view.scale}
                selected={selected} hover={tool.kind === 'idle' ? tool.hover : null} showGhosts={showGhosts}
                draggable={tool.kind === 'idle' || tool.kind === 'dragging'}
                onDragStart={onDragStart} onDragMove={onDragMove} onDragEnd={onDragEnd} onHover={onHover} onSelect={onSelect} />
            )}
          </Viewer>
          {loupePoint && view && <Loupe source={windowed.canvas} at={loupePoint} screen={imageToScreen(view, loupePoint)} viewScale={view.scale} />}
        </div>
        <aside className="side">
          <StagePanel detail={detail} assessment={assessment} reference={reference} onCalibrate={() => setCalibrate({ points: null })} />
          <LandmarkList landmarks={landmarks} ai={ai} spacing={pixelSpacing} confidences={confidences} selected={selected}
            onSelect={setSelected} onReset={onResetLandmark} />
          <HistoryPanel detail={detail} onRevert={onRevert} />
        </aside>
      </div>
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
      {calibrate && (
        <CalibrateDialog points={calibrate.points} hasCalibration={detail.calibration !== null}
          aspect={detail.fileSpacing ? detail.fileSpacing.rowMm / detail.fileSpacing.colMm : 1}
          onMarkPoints={() => { setCalibrate(null); send({ type: 'startCalibrating' }); }}
          onSubmit={editor.setCalibration} onClose={() => setCalibrate(null)} />
      )}
    </div>
  );
}
