/** Which landmarks the vertebra outlines pass through, in drawing order. */
import type { LandmarkName, LandmarkSet } from '../../core/landmarks/index';

export interface Outline {
  readonly id: string;
  readonly names: readonly LandmarkName[];
  readonly closed: boolean;
}

export const OUTLINES: readonly Outline[] = [
  { id: 'C2-lower', names: ['C2p', 'C2m', 'C2a'], closed: false },
  // Body: upper border (posterior to anterior), anterior border, lower border back through the deepest point.
  { id: 'C3-body', names: ['C3up', 'C3ua', 'C3la', 'C3m', 'C3lp'], closed: true },
  { id: 'C4-body', names: ['C4up', 'C4ua', 'C4la', 'C4m', 'C4lp'], closed: true },
];

/** Flat [x0, y0, x1, y1, ...] for Konva, or null when a point of the outline is missing. */
export function outlinePoints(outline: Outline, landmarks: LandmarkSet): number[] | null {
  const points: number[] = [];
  for (const name of outline.names) {
    const p = landmarks[name];
    if (!p) return null;
    points.push(p.x, p.y);
  }
  return points;
}

/** Bounding box of the landmarks present, grown by `marginPx` on each side; null when none. */
export function landmarkBounds(
  landmarks: LandmarkSet,
  marginPx: number,
): { x: number; y: number; width: number; height: number } | null {
  const pts = Object.values(landmarks);
  if (pts.length === 0) return null;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x0 = Math.min(...xs) - marginPx;
  const y0 = Math.min(...ys) - marginPx;
  return { x: x0, y: y0, width: Math.max(...xs) + marginPx - x0, height: Math.max(...ys) + marginPx - y0 };
}
