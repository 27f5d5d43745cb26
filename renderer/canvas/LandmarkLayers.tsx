/**
 * Outlines and ghosts on one non-listening layer, the 13 draggable handles on a small interactive layer.
 * Sizes are divided by the view scale so handles keep their screen size at any zoom.
 */
import { memo, type ReactNode } from 'react';
import type Konva from 'konva';
import { Circle, Group, Label, Layer, Line, Tag, Text } from 'react-konva';
import { LANDMARK_NAMES, landmarkInfo, type LandmarkName, type LandmarkSet } from '../../core/landmarks/index';
import { confidenceLevel, LEVEL_COLOR, type ExpectedErrors } from './confidence';
import { OUTLINES, outlinePoints } from './outlines';

export interface LandmarkLayersProps {
  readonly landmarks: LandmarkSet;
  readonly ai: LandmarkSet | null;
  /** Calibrated expected error per AI landmark (mm) and the model's flag threshold. */
  readonly expectedErrors: ExpectedErrors;
  readonly scale: number;
  readonly selected: LandmarkName | null;
  readonly hover: LandmarkName | null;
  readonly showGhosts: boolean;
  /** Landmarks an anatomical check flags (vertebrae overlapping, crossing, collapsed): drawn as errors at once. */
  readonly flagged: readonly LandmarkName[];
  readonly flagSeverity: 'ok' | 'check' | 'implausible';
  readonly draggable: boolean;
  readonly onDragStart: (name: LandmarkName) => void;
  readonly onDragMove: (name: LandmarkName, x: number, y: number) => void;
  readonly onDragEnd: (name: LandmarkName) => void;
  readonly onHover: (name: LandmarkName | null) => void;
  readonly onSelect: (name: LandmarkName) => void;
}

const HANDLE_RADIUS = 6;
const HIT_RADIUS = 11;

function isEdited(name: LandmarkName, landmarks: LandmarkSet, ai: LandmarkSet | null): boolean {
  const p = landmarks[name];
  const a = ai?.[name];
  return !a || !p || Math.abs(p.x - a.x) > 1e-6 || Math.abs(p.y - a.y) > 1e-6;
}

const FLAG_COLOR = { implausible: '#ff4d4d', check: '#ffb020', ok: '#7fd4ff' } as const;

function OutlineLayer({
  landmarks,
  ai,
  scale,
  showGhosts,
  flagged,
  flagSeverity,
}: Pick<LandmarkLayersProps, 'landmarks' | 'ai' | 'scale' | 'showGhosts' | 'flagged' | 'flagSeverity'>): ReactNode {
  const px = 1 / scale;
  return (
    <Layer listening={false}>
      {showGhosts &&
        ai &&
        OUTLINES.map((o) => {
          const pts = outlinePoints(o, ai);
          return (
            pts && (
              <Line
                key={`ghost-${o.id}`}
                points={pts}
                closed={o.closed}
                stroke="#ffffff"
                opacity={0.25}
                strokeWidth={1.5 * px}
                dash={[6 * px, 4 * px]}
              />
            )
          );
        })}
      {showGhosts &&
        ai &&
        LANDMARK_NAMES.map((name) => {
          const a = ai[name];
          const p = landmarks[name];
          if (!a || !isEdited(name, landmarks, ai)) return null;
          return (
            <Group key={`ghost-${name}`}>
              <Circle x={a.x} y={a.y} radius={4 * px} stroke="#ffffff" opacity={0.45} strokeWidth={1.5 * px} />
              {p && <Line points={[a.x, a.y, p.x, p.y]} stroke="#ffffff" opacity={0.35} strokeWidth={px} />}
            </Group>
          );
        })}
      {OUTLINES.map((o) => {
        const pts = outlinePoints(o, landmarks);
        const bad = o.names.some((n) => flagged.includes(n));
        return (
          pts && (
            <Line
              key={o.id}
              points={pts}
              closed={o.closed}
              stroke={bad ? FLAG_COLOR[flagSeverity] : FLAG_COLOR.ok}
              strokeWidth={(bad ? 2.4 : 1.6) * px}
              opacity={0.9}
              lineJoin="round"
              dash={bad && flagSeverity === 'implausible' ? [7 * px, 4 * px] : undefined}
            />
          )
        );
      })}
    </Layer>
  );
}

function HandleLayer(props: LandmarkLayersProps): ReactNode {
  const { landmarks, ai, expectedErrors, scale, selected, hover } = props;
  const px = 1 / scale;
  const hovered = hover ? landmarks[hover] : undefined;
  return (
    // While placing or calibrating, clicks must reach the image even on top of a handle.
    <Layer listening={props.draggable}>
      {LANDMARK_NAMES.map((name) => {
        const p = landmarks[name];
        if (!p) return null;
        const color =
          LEVEL_COLOR[confidenceLevel(expectedErrors.mm[name], isEdited(name, landmarks, ai), expectedErrors.flagMm)];
        const isSelected = selected === name;
        const isFlagged = props.flagged.includes(name);
        return (
          <Group key={name}>
            {isFlagged && (
              <Circle
                x={p.x}
                y={p.y}
                radius={(HANDLE_RADIUS + 4) * px}
                stroke={FLAG_COLOR[props.flagSeverity]}
                strokeWidth={2.5 * px}
                listening={false}
                name={`flag-${name}`}
              />
            )}
            <Circle
              key={name}
              name={`handle-${name}`}
              x={p.x}
              y={p.y}
              radius={HANDLE_RADIUS * px}
              hitFunc={(ctx, shape) => {
                ctx.beginPath();
                ctx.arc(0, 0, HIT_RADIUS * px, 0, Math.PI * 2);
                ctx.closePath();
                ctx.fillStrokeShape(shape);
              }}
              fill={isSelected ? color : 'rgba(0,0,0,0.35)'}
              stroke={color}
              strokeWidth={(isSelected ? 3 : 2) * px}
              draggable={props.draggable}
              onMouseEnter={() => props.onHover(name)}
              onMouseLeave={() => props.onHover(null)}
              onMouseDown={(e: Konva.KonvaEventObject<MouseEvent>) => {
                if (e.evt.button === 0) props.onSelect(name);
              }}
              onDragStart={() => props.onDragStart(name)}
              onDragMove={(e: Konva.KonvaEventObject<DragEvent>) => props.onDragMove(name, e.target.x(), e.target.y())}
              onDragEnd={() => props.onDragEnd(name)}
            />
          </Group>
        );
      })}
      {hover && hovered && (
        <Label x={hovered.x + 10 * px} y={hovered.y - 10 * px} listening={false}>
          <Tag fill="rgba(10,14,20,0.85)" cornerRadius={3 * px} />
          <Text text={`${hover} · ${landmarkInfo(hover).label}`} fontSize={12 * px} padding={4 * px} fill="#e6e9ee" />
        </Label>
      )}
    </Layer>
  );
}

export const LandmarkLayers = memo(function LandmarkLayers(props: LandmarkLayersProps): ReactNode {
  return (
    <>
      <OutlineLayer {...props} />
      <HandleLayer {...props} />
    </>
  );
});
