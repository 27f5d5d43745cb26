/**
 * The landmark tool's interaction state machine, plain TypeScript so it is tested without a browser.
 * The viewer feeds it events; it answers with the next state and what the study should do.
 */
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../../core/landmarks/index';
import type { ImagePoint } from '../../core/geometry/index';

export type ToolState =
  | { readonly kind: 'idle'; readonly hover: LandmarkName | null }
  | { readonly kind: 'dragging'; readonly name: LandmarkName; readonly before: LandmarkSet; readonly moved: boolean }
  /** Placing the landmarks by hand, in canonical order; `next` is the one the next click places. */
  | { readonly kind: 'placing'; readonly next: LandmarkName; readonly before: LandmarkSet }
  /** Marking two points of a known distance; the second click opens the distance prompt. */
  | { readonly kind: 'calibrating'; readonly points: readonly ImagePoint[] };

export type ToolEvent =
  | { readonly type: 'hover'; readonly name: LandmarkName | null }
  | { readonly type: 'dragStart'; readonly name: LandmarkName; readonly landmarks: LandmarkSet }
  | { readonly type: 'dragMove' }
  | { readonly type: 'dragEnd' }
  | { readonly type: 'startPlacing'; readonly landmarks: LandmarkSet }
  | { readonly type: 'click'; readonly at: ImagePoint; readonly landmarks: LandmarkSet }
  | { readonly type: 'startCalibrating' }
  | { readonly type: 'cancel' };

/** What the study must do after an event. */
export type ToolEffect =
  | { readonly type: 'none' }
  /** Record one undoable gesture from `before` to `after` (default: the landmarks now shown), and save it. */
  | {
      readonly type: 'commit';
      readonly before: LandmarkSet;
      readonly moved: readonly LandmarkName[];
      readonly after?: LandmarkSet;
    }
  /** Show `landmarks` (a point placed by hand); not yet a saved gesture. */
  | { readonly type: 'place'; readonly landmarks: LandmarkSet }
  | { readonly type: 'calibrationPoints'; readonly points: readonly [ImagePoint, ImagePoint] };

export const IDLE: ToolState = { kind: 'idle', hover: null };

/** The first landmark of canonical order that the set does not have yet, or null when complete. */
export function nextMissing(landmarks: LandmarkSet): LandmarkName | null {
  return LANDMARK_NAMES.find((n) => landmarks[n] === undefined) ?? null;
}

export function step(state: ToolState, event: ToolEvent): { state: ToolState; effect: ToolEffect } {
  const none = { type: 'none' } as const;
  switch (event.type) {
    case 'hover':
      return state.kind === 'idle'
        ? { state: { kind: 'idle', hover: event.name }, effect: none }
        : { state, effect: none };
    case 'dragStart':
      if (state.kind !== 'idle') return { state, effect: none };
      return { state: { kind: 'dragging', name: event.name, before: event.landmarks, moved: false }, effect: none };
    case 'dragMove':
      return state.kind === 'dragging' ? { state: { ...state, moved: true }, effect: none } : { state, effect: none };
    case 'dragEnd':
      if (state.kind !== 'dragging') return { state, effect: none };
      // A click on a handle without movement is a selection, not an edit: nothing to undo or save.
      return {
        state: { kind: 'idle', hover: state.name },
        effect: state.moved ? { type: 'commit', before: state.before, moved: [state.name] } : none,
      };
    case 'startPlacing': {
      const next = nextMissing({});
      return next
        ? { state: { kind: 'placing', next, before: event.landmarks }, effect: { type: 'place', landmarks: {} } }
        : { state, effect: none };
    }
    case 'click': {
      if (state.kind === 'placing') {
        const landmarks = { ...event.landmarks, [state.next]: event.at };
        const next = nextMissing(landmarks);
        if (next)
          return { state: { kind: 'placing', next, before: state.before }, effect: { type: 'place', landmarks } };
        return {
          state: IDLE,
          effect: { type: 'commit', before: state.before, moved: [...LANDMARK_NAMES], after: landmarks },
        };
      }
      if (state.kind === 'calibrating') {
        const points = [...state.points, event.at];
        if (points.length < 2) return { state: { kind: 'calibrating', points }, effect: none };
        return { state: IDLE, effect: { type: 'calibrationPoints', points: [points[0]!, points[1]!] } };
      }
      return { state, effect: none };
    }
    case 'startCalibrating':
      return { state: { kind: 'calibrating', points: [] }, effect: none };
    case 'cancel':
      if (state.kind === 'placing') return { state: IDLE, effect: { type: 'place', landmarks: state.before } };
      return { state: IDLE, effect: none };
  }
}
