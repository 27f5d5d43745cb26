/**
 * The landmark tool's interaction state machine, plain TypeScript so it is tested without a browser.
 * The viewer and the keyboard feed it events; it answers with the next state and what the study should do.
 *
 * Every way of moving landmarks is one gesture, one undo step and one saved version: a drag (mouse down to
 * mouse up), a run of arrow presses on one landmark (until the keys pause or anything else happens), and
 * placing all 13 landmarks by hand.
 */
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../../core/landmarks/index';
import { imagePoint, type ImagePoint } from '../../core/geometry/index';

export type ToolState =
  | { readonly kind: 'idle'; readonly hover: LandmarkName | null }
  | { readonly kind: 'dragging'; readonly name: LandmarkName; readonly before: LandmarkSet; readonly moved: boolean }
  /** A run of arrow presses moving `name`; `before` is the set before the first press. */
  | { readonly kind: 'nudging'; readonly name: LandmarkName; readonly before: LandmarkSet }
  /** Placing the landmarks by hand, in canonical order; `next` is the one the next click places. */
  | { readonly kind: 'placing'; readonly next: LandmarkName; readonly before: LandmarkSet }
  /** Marking two points of a known distance; the second click opens the distance prompt. */
  | { readonly kind: 'calibrating'; readonly points: readonly ImagePoint[] };

export type ToolEvent =
  | { readonly type: 'hover'; readonly name: LandmarkName | null }
  | { readonly type: 'dragStart'; readonly name: LandmarkName; readonly landmarks: LandmarkSet }
  | { readonly type: 'dragMove' }
  | { readonly type: 'dragEnd' }
  /** An arrow press: move `name` by (dx, dy) image pixels in `landmarks` (the set shown now). */
  | {
      readonly type: 'nudge';
      readonly name: LandmarkName;
      readonly dx: number;
      readonly dy: number;
      readonly landmarks: LandmarkSet;
    }
  /** The arrow keys paused, or the study is being left: the run of presses is over. */
  | { readonly type: 'nudgeEnd' }
  | { readonly type: 'startPlacing'; readonly landmarks: LandmarkSet }
  | { readonly type: 'click'; readonly at: ImagePoint; readonly landmarks: LandmarkSet }
  | { readonly type: 'startCalibrating' }
  | { readonly type: 'cancel' };

/** What the study must do after an event. */
export type ToolEffect =
  /** Record one undoable gesture from `before` to `after` (default: the landmarks now shown), and save it. */
  | {
      readonly type: 'commit';
      readonly before: LandmarkSet;
      readonly moved: readonly LandmarkName[];
      readonly after?: LandmarkSet;
    }
  /** Show `landmarks` (a gesture in progress): not yet a saved gesture. */
  | { readonly type: 'place'; readonly landmarks: LandmarkSet }
  | { readonly type: 'calibrationPoints'; readonly points: readonly [ImagePoint, ImagePoint] };

export interface ToolStep {
  readonly state: ToolState;
  /** In order; empty when the study has nothing to do. */
  readonly effects: readonly ToolEffect[];
}

export const IDLE: ToolState = { kind: 'idle', hover: null };

/** The first landmark of canonical order that the set does not have yet, or null when complete. */
export function nextMissing(landmarks: LandmarkSet): LandmarkName | null {
  return LANDMARK_NAMES.find((n) => landmarks[n] === undefined) ?? null;
}

const NOTHING: readonly ToolEffect[] = [];

/** Ends a run of arrow presses: one commit of everything it moved. Other states are returned as they are. */
function endNudge(state: ToolState): ToolStep {
  if (state.kind !== 'nudging') return { state, effects: NOTHING };
  return {
    state: { kind: 'idle', hover: null },
    effects: [{ type: 'commit', before: state.before, moved: [state.name] }],
  };
}

export function step(state: ToolState, event: ToolEvent): ToolStep {
  // Anything but another arrow press (or a hover) ends a keyboard run first, so the run is saved as one
  // gesture before the next thing happens.
  if (state.kind === 'nudging' && event.type !== 'nudge' && event.type !== 'hover') {
    const ended = endNudge(state);
    if (event.type === 'nudgeEnd' || event.type === 'cancel') return ended;
    const then = step(ended.state, event);
    return { state: then.state, effects: [...ended.effects, ...then.effects] };
  }
  const same = { state, effects: NOTHING };
  switch (event.type) {
    case 'hover':
      return state.kind === 'idle' ? { state: { kind: 'idle', hover: event.name }, effects: NOTHING } : same;
    case 'dragStart':
      if (state.kind !== 'idle') return same;
      return {
        state: { kind: 'dragging', name: event.name, before: event.landmarks, moved: false },
        effects: NOTHING,
      };
    case 'dragMove':
      return state.kind === 'dragging' ? { state: { ...state, moved: true }, effects: NOTHING } : same;
    case 'dragEnd':
      if (state.kind !== 'dragging') return same;
      // A click on a handle without movement is a selection, not an edit: nothing to undo or save.
      return {
        state: { kind: 'idle', hover: state.name },
        effects: state.moved ? [{ type: 'commit', before: state.before, moved: [state.name] }] : NOTHING,
      };
    case 'nudge': {
      const current = event.landmarks[event.name];
      if (!current || (state.kind !== 'idle' && state.kind !== 'nudging')) return same;
      // Another landmark starts another gesture.
      const ended =
        state.kind === 'nudging' && state.name !== event.name ? endNudge(state) : { state, effects: NOTHING };
      const before = ended.state.kind === 'nudging' ? ended.state.before : event.landmarks;
      const landmarks = { ...event.landmarks, [event.name]: imagePoint(current.x + event.dx, current.y + event.dy) };
      return {
        state: { kind: 'nudging', name: event.name, before },
        effects: [...ended.effects, { type: 'place', landmarks }],
      };
    }
    case 'nudgeEnd':
      return same;
    case 'startPlacing': {
      const next = nextMissing({});
      return next
        ? { state: { kind: 'placing', next, before: event.landmarks }, effects: [{ type: 'place', landmarks: {} }] }
        : same;
    }
    case 'click': {
      if (state.kind === 'placing') {
        const landmarks = { ...event.landmarks, [state.next]: event.at };
        const next = nextMissing(landmarks);
        if (next)
          return { state: { kind: 'placing', next, before: state.before }, effects: [{ type: 'place', landmarks }] };
        return {
          state: IDLE,
          effects: [{ type: 'commit', before: state.before, moved: [...LANDMARK_NAMES], after: landmarks }],
        };
      }
      if (state.kind === 'calibrating') {
        const [a, b] = [...state.points, event.at];
        if (!a || !b) return { state: { kind: 'calibrating', points: [event.at] }, effects: NOTHING };
        return { state: IDLE, effects: [{ type: 'calibrationPoints', points: [a, b] }] };
      }
      return same;
    }
    case 'startCalibrating':
      return { state: { kind: 'calibrating', points: [] }, effects: NOTHING };
    case 'cancel':
      if (state.kind === 'placing') return { state: IDLE, effects: [{ type: 'place', landmarks: state.before }] };
      return { state: IDLE, effects: NOTHING };
  }
}

/** The landmark being moved now (dragged or nudged), for the loupe; null otherwise. */
export function movingLandmark(state: ToolState): LandmarkName | null {
  return state.kind === 'dragging' || state.kind === 'nudging' ? state.name : null;
}
