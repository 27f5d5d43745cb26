/**
 * The radiograph with its landmarks: the Konva viewer, the landmark and outline layers, the loupe while a
 * landmark is dragged or nudged, and the mouse side of the landmark tool. A drag previews every move
 * (the stage is recomputed in the same frame) and is committed once, at its end.
 */
import { useCallback, type ReactNode, type RefObject } from 'react';
import { flushSync } from 'react-dom';
import type Konva from 'konva';
import type { Assessment } from '../../../core/cvm/index';
import { imagePoint, screenPoint } from '../../../core/geometry/index';
import type { LandmarkName, LandmarkSet } from '../../../core/landmarks/index';
import type { Plausibility } from '../../../core/review/plausibility';
import { LandmarkLayers } from '../../canvas/LandmarkLayers';
import { Loupe } from '../../canvas/Loupe';
import type { ExpectedErrors } from '../../canvas/confidence';
import type { WindowedCanvas } from '../../canvas/useWindowedCanvas';
import { Viewer } from '../../canvas/Viewer';
import { imageToScreen, screenToImage } from '../../canvas/view-transform';
import { loupeTarget } from '../../state/study-view';
import type { StudyEditor } from './useStudyEditor';
import type { StudyViewBinding } from './useStudyViewState';
import type { Viewport } from './useViewport';

export interface StudyCanvasProps {
  readonly editor: StudyEditor;
  readonly binding: StudyViewBinding;
  readonly viewport: Viewport;
  readonly image: WindowedCanvas;
  readonly expectedErrors: ExpectedErrors;
  readonly plausibility: Plausibility | null;
  readonly onWindowDrag: (dx: number, dy: number) => void;
  readonly host: RefObject<HTMLDivElement | null>;
}

const NONE: readonly LandmarkName[] = [];

export function StudyCanvas({
  editor,
  binding,
  viewport,
  image,
  expectedErrors,
  plausibility,
  onWindowDrag,
  host,
}: StudyCanvasProps): ReactNode {
  const { landmarks, ai } = editor;
  const { state, store, dispatch, liveLandmarks } = binding;
  const { view } = viewport;
  const { tool } = state;
  const assessment: Assessment | null = editor.assessment;

  const onDragStart = useCallback(
    (name: LandmarkName) => dispatch({ type: 'dragStart', name, landmarks: liveLandmarks.current, assessment }),
    [dispatch, liveLandmarks, assessment],
  );
  const onDragMove = useCallback(
    (name: LandmarkName, x: number, y: number) => {
      const next: LandmarkSet = { ...liveLandmarks.current, [name]: imagePoint(x, y) };
      liveLandmarks.current = next;
      // Render now, inside this mouse move, rather than in a later scheduler task: the stage panel is
      // then up to date before the browser paints the moved handle.
      flushSync(() => editor.previewLandmarks(next));
      const t = store.getState().tool;
      if (t.kind === 'dragging' && !t.moved) dispatch({ type: 'tool', event: { type: 'dragMove' } });
    },
    [editor, store, dispatch, liveLandmarks],
  );
  const onDragEnd = useCallback(() => dispatch({ type: 'tool', event: { type: 'dragEnd' } }), [dispatch]);
  const onHover = useCallback(
    (name: LandmarkName | null) => dispatch({ type: 'tool', event: { type: 'hover', name } }),
    [dispatch],
  );
  const onSelect = useCallback((name: LandmarkName) => dispatch({ type: 'select', name }), [dispatch]);

  const onBackgroundPointerDown = useCallback(
    (e: Konva.KonvaEventObject<MouseEvent>): boolean => {
      host.current?.focus();
      const kind = store.getState().tool.kind;
      if (kind !== 'placing' && kind !== 'calibrating') return false;
      const pointer = e.target.getStage()?.getPointerPosition();
      if (!pointer || !view) return true;
      const at = screenToImage(view, screenPoint(pointer.x, pointer.y));
      dispatch({ type: 'tool', event: { type: 'click', at, landmarks: liveLandmarks.current } });
      return true;
    },
    [host, store, dispatch, liveLandmarks, view],
  );

  const target = loupeTarget(state);
  const loupePoint = target ? landmarks[target] : undefined;
  return (
    <div
      className="viewer-host"
      ref={host}
      tabIndex={0}
      role="application"
      aria-label="Radiograph: Tab selects landmarks, arrow keys move them, F fits, R zooms to C2-C4"
      data-landmarks={JSON.stringify(landmarks)}
      data-selected={state.selected ?? ''}
      data-flagged={(plausibility?.landmarks ?? []).join(',')}
    >
      <Viewer
        image={image}
        view={view}
        onViewChange={viewport.onUserViewChange}
        onViewportSize={viewport.onViewportSize}
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
            selected={state.selected}
            hover={tool.kind === 'idle' ? tool.hover : null}
            showGhosts={state.showGhosts}
            flagged={plausibility?.landmarks ?? NONE}
            flagSeverity={plausibility?.verdict ?? 'ok'}
            draggable={tool.kind === 'idle' || tool.kind === 'dragging' || tool.kind === 'nudging'}
            onDragStart={onDragStart}
            onDragMove={onDragMove}
            onDragEnd={onDragEnd}
            onHover={onHover}
            onSelect={onSelect}
          />
        )}
      </Viewer>
      {loupePoint && view && (
        <Loupe source={image.canvas} at={loupePoint} screen={imageToScreen(view, loupePoint)} viewScale={view.scale} />
      )}
    </div>
  );
}
