/**
 * Undo/redo of landmark sets with one entry per gesture: a drag previews every mouse move in `present` and
 * commits once, at its end, with the state from before the gesture as the undo point.
 */
export interface History<T> {
  readonly past: readonly T[];
  readonly present: T;
  readonly future: readonly T[];
}

/** Older entries are dropped beyond this; every version also lives in the database. */
export const HISTORY_LIMIT = 500;

export function createHistory<T>(present: T): History<T> {
  return { past: [], present, future: [] };
}

/** Shows `next` without recording an undo step (a gesture in progress). */
export function preview<T>(h: History<T>, next: T): History<T> {
  return { ...h, present: next };
}

/** Records a finished gesture: `before` (default: the present) becomes the undo point, redo is cleared. */
export function commit<T>(h: History<T>, next: T, before: T = h.present): History<T> {
  const past = [...h.past, before];
  return {
    past: past.length > HISTORY_LIMIT ? past.slice(past.length - HISTORY_LIMIT) : past,
    present: next,
    future: [],
  };
}

export function undo<T>(h: History<T>): History<T> {
  const previous = h.past[h.past.length - 1];
  if (previous === undefined) return h;
  return { past: h.past.slice(0, -1), present: previous, future: [h.present, ...h.future] };
}

export function redo<T>(h: History<T>): History<T> {
  const [next, ...rest] = h.future;
  if (next === undefined) return h;
  return { past: [...h.past, h.present], present: next, future: rest };
}

export const canUndo = <T>(h: History<T>): boolean => h.past.length > 0;
export const canRedo = <T>(h: History<T>): boolean => h.future.length > 0;
