/** A magnifier that follows the dragged handle: the windowed image around it at 4x the current zoom. */
import { useEffect, useRef, type ReactNode } from 'react';
import type { ImagePoint } from '../../core/geometry/index';

export interface LoupeProps {
  readonly source: HTMLCanvasElement;
  readonly at: ImagePoint;
  /** Screen position of the point, to place the loupe beside it. */
  readonly screen: { x: number; y: number };
  readonly viewScale: number;
}

const SIZE = 180;

export function Loupe({ source, at, screen, viewScale }: LoupeProps): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const zoom = Math.max(4 * viewScale, 2);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const half = SIZE / 2 / zoom;
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, SIZE, SIZE);
    ctx.drawImage(source, at.x - half + 0.5, at.y - half + 0.5, 2 * half, 2 * half, 0, 0, SIZE, SIZE);
    ctx.strokeStyle = 'rgba(90,176,255,0.9)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(SIZE / 2, 0);
    ctx.lineTo(SIZE / 2, SIZE / 2 - 8);
    ctx.moveTo(SIZE / 2, SIZE / 2 + 8);
    ctx.lineTo(SIZE / 2, SIZE);
    ctx.moveTo(0, SIZE / 2);
    ctx.lineTo(SIZE / 2 - 8, SIZE / 2);
    ctx.moveTo(SIZE / 2 + 8, SIZE / 2);
    ctx.lineTo(SIZE, SIZE / 2);
    ctx.stroke();
  }, [source, at.x, at.y, zoom]);
  // Beside the cursor, flipped to the other side near the right edge, never under it.
  const left = screen.x + 40 + SIZE > window.innerWidth - 380 ? screen.x - 40 - SIZE : screen.x + 40;
  return (
    <canvas
      ref={ref}
      width={SIZE}
      height={SIZE}
      className="loupe"
      data-testid="loupe"
      style={{ left, top: Math.max(8, screen.y - SIZE - 30) }}
    />
  );
}
