import { useEffect, useMemo, useState } from 'react';
import type { ImagePixels } from '../../core/api/index';
import { applyWindow, windowLut, type DisplayWindow } from './window-level';

/**
 * An offscreen canvas holding the windowed image. The canvas and its ImageData are created once per image
 * and refilled on every window change, so dragging the window/level does not allocate 20 MB per frame.
 */
export interface WindowedCanvas {
  readonly canvas: HTMLCanvasElement;
  /** Increases on every refill, so layers know when to redraw. */
  readonly version: number;
}

export function useWindowedCanvas(pixels: ImagePixels, displayWindow: DisplayWindow): WindowedCanvas {
  const surface = useMemo(() => {
    const canvas = document.createElement('canvas');
    canvas.width = pixels.width;
    canvas.height = pixels.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser cannot draw on a 2D canvas');
    return { canvas, ctx, imageData: ctx.createImageData(pixels.width, pixels.height) };
  }, [pixels]);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    applyWindow(pixels.data, windowLut(displayWindow), surface.imageData.data);
    surface.ctx.putImageData(surface.imageData, 0, 0);
    setVersion((v) => v + 1);
  }, [surface, pixels, displayWindow.center, displayWindow.width, displayWindow.invert]);
  return { canvas: surface.canvas, version };
}
