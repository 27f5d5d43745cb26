/**
 * Where the image sits on screen: the view transform, the viewer's size, and whether the view follows the
 * window (fit to the image or to the C2-C4 region) or stays where the user zoomed and panned it.
 */
import { useCallback, useRef, useState, type MutableRefObject } from 'react';
import type { ImagePoint } from '../../../core/geometry/index';
import type { LandmarkSet } from '../../../core/landmarks/index';
import { landmarkBounds } from '../../canvas/outlines';
import {
  actualSizeTransform,
  fitRegion,
  fitTransform,
  imageToScreen,
  type Size,
  type ViewTransform,
} from '../../canvas/view-transform';

export interface Viewport {
  readonly view: ViewTransform | null;
  readonly viewport: Size | null;
  /** The viewer was resized. */
  onViewportSize(size: Size): void;
  /** The user zoomed or panned: the view stops following the window. */
  onUserViewChange(view: ViewTransform): void;
  fitImage(): void;
  actualSize(): void;
  fitRegionOfInterest(): void;
  /** Pans so that `p` is on screen, when it is near an edge or outside. */
  reveal(p: ImagePoint): void;
}

/** Margin (screen pixels) that `reveal` keeps between a point and the viewer's edge. */
const REVEAL_MARGIN = 40;

export function useViewport(
  image: Size,
  spacing: { readonly colMm: number } | null,
  liveLandmarks: MutableRefObject<LandmarkSet>,
): Viewport {
  const [view, setView] = useState<ViewTransform | null>(null);
  const [viewport, setViewport] = useState<Size | null>(null);
  const autoFit = useRef<'image' | 'region' | null>('image');
  const lastViewport = useRef<Size | null>(null);

  const regionTransform = useCallback(
    (size: Size) => {
      const bounds = landmarkBounds(liveLandmarks.current, spacing ? 8 / spacing.colMm : 80);
      return bounds ? fitRegion(bounds, size) : fitTransform(image, size);
    },
    [image, spacing, liveLandmarks],
  );

  // A resized window refits the image (or the C2-C4 region) unless the user zoomed or panned since; then
  // the point at the centre stays at the centre.
  const onViewportSize = useCallback(
    (size: Size) => {
      const before = lastViewport.current;
      lastViewport.current = size;
      setViewport(size);
      setView((v) => {
        if (!v || autoFit.current === 'image') return fitTransform(image, size);
        if (autoFit.current === 'region') return regionTransform(size);
        if (!before) return v;
        return { scale: v.scale, x: v.x + (size.width - before.width) / 2, y: v.y + (size.height - before.height) / 2 };
      });
    },
    [image, regionTransform],
  );
  const onUserViewChange = useCallback((v: ViewTransform) => {
    autoFit.current = null;
    setView(v);
  }, []);

  const fitImage = useCallback(() => {
    autoFit.current = 'image';
    if (viewport) setView(fitTransform(image, viewport));
  }, [image, viewport]);
  const actualSize = useCallback(() => {
    autoFit.current = null;
    if (viewport && view) setView(actualSizeTransform(view, viewport));
  }, [view, viewport]);
  const fitRegionOfInterest = useCallback(() => {
    autoFit.current = 'region';
    if (viewport) setView(regionTransform(viewport));
  }, [viewport, regionTransform]);
  const reveal = useCallback(
    (p: ImagePoint) => {
      if (!view || !viewport) return;
      const s = imageToScreen(view, p);
      const m = REVEAL_MARGIN;
      if (s.x >= m && s.y >= m && s.x <= viewport.width - m && s.y <= viewport.height - m) return;
      setView({
        scale: view.scale,
        x: viewport.width / 2 - p.x * view.scale,
        y: viewport.height / 2 - p.y * view.scale,
      });
    },
    [view, viewport],
  );

  return { view, viewport, onViewportSize, onUserViewChange, fitImage, actualSize, fitRegionOfInterest, reveal };
}
