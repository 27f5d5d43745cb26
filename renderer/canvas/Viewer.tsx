/**
 * The radiograph viewer: the image on its own non-listening Konva layer, overlays (outlines, handles) on
 * layers of their own given as children, wheel zoom around the cursor and drag to pan on empty space.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import Konva from 'konva';
import { Image as KonvaImage, Layer, Stage } from 'react-konva';
import { screenPoint } from '../../core/geometry/index';
import { panBy, wheelZoomFactor, zoomAt, type Size, type ViewTransform } from './view-transform';
import type { WindowedCanvas } from './useWindowedCanvas';

export interface ViewerProps {
  /** The windowed image (see useWindowedCanvas), drawn at image-pixel scale. */
  readonly image: WindowedCanvas;
  readonly view: ViewTransform | null;
  readonly onViewChange: (view: ViewTransform) => void;
  readonly onViewportSize: (size: Size) => void;
  /**
   * Mouse down on empty image space with no modifier claimed by a tool (e.g. placing a point): return true to stop
   * panning.
   */
  readonly onBackgroundPointerDown?: (event: Konva.KonvaEventObject<MouseEvent>) => boolean;
  /** Mouse drag with the window/level modifier (Ctrl / right button): dx, dy in screen px. */
  readonly onWindowDrag?: (dx: number, dy: number) => void;
  readonly cursor?: string;
  readonly children?: ReactNode;
}

type Gesture = { kind: 'pan' | 'window'; lastX: number; lastY: number } | null;

export function Viewer(props: ViewerProps): ReactNode {
  const { image, view, onViewChange, onViewportSize } = props;
  const containerRef = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState<Size | null>(null);
  const gesture = useRef<Gesture>(null);
  const imageRef = useRef<Konva.Image>(null);

  useEffect(() => {
    const el = containerRef.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      const next = { width: el.clientWidth, height: el.clientHeight };
      setSize(next);
      onViewportSize(next);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [onViewportSize]);

  useEffect(() => {
    imageRef.current?.getLayer()?.batchDraw();
  }, [image.version]);

  const onWheel = (e: Konva.KonvaEventObject<WheelEvent>): void => {
    e.evt.preventDefault();
    if (!view) return;
    const pointer = e.target.getStage()?.getPointerPosition();
    if (!pointer) return;
    onViewChange(zoomAt(view, screenPoint(pointer.x, pointer.y), wheelZoomFactor(e.evt.deltaY)));
  };

  const onMouseDown = (e: Konva.KonvaEventObject<MouseEvent>): void => {
    const onEmpty = e.target === e.target.getStage();
    const windowModifier = e.evt.button === 2 || e.evt.ctrlKey || e.evt.metaKey;
    if (windowModifier && props.onWindowDrag) {
      gesture.current = { kind: 'window', lastX: e.evt.clientX, lastY: e.evt.clientY };
      return;
    }
    if (!onEmpty || e.evt.button !== 0) return;
    if (props.onBackgroundPointerDown?.(e)) return;
    gesture.current = { kind: 'pan', lastX: e.evt.clientX, lastY: e.evt.clientY };
  };

  useEffect(() => {
    const move = (evt: MouseEvent): void => {
      const g = gesture.current;
      if (!g) return;
      const dx = evt.clientX - g.lastX;
      const dy = evt.clientY - g.lastY;
      g.lastX = evt.clientX;
      g.lastY = evt.clientY;
      if (g.kind === 'pan' && view) onViewChange(panBy(view, dx, dy));
      else if (g.kind === 'window') props.onWindowDrag?.(dx, dy);
    };
    const up = (): void => {
      gesture.current = null;
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
    return () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
  }, [view, onViewChange, props.onWindowDrag]);

  return (
    <div
      ref={containerRef}
      className="viewer"
      data-testid="viewer"
      data-scale={view?.scale ?? ''}
      data-x={view?.x ?? ''}
      data-y={view?.y ?? ''}
      style={{ cursor: gesture.current?.kind === 'pan' ? 'grabbing' : (props.cursor ?? 'default') }}
      onContextMenu={(e) => e.preventDefault()}
    >
      {size && view && (
        <Stage
          width={size.width}
          height={size.height}
          scaleX={view.scale}
          scaleY={view.scale}
          x={view.x}
          y={view.y}
          onWheel={onWheel}
          onMouseDown={onMouseDown}
        >
          <Layer listening={false} imageSmoothingEnabled={view.scale < 2}>
            <KonvaImage ref={imageRef} image={image.canvas} width={image.canvas.width} height={image.canvas.height} />
          </Layer>
          {props.children}
        </Stage>
      )}
    </div>
  );
}
