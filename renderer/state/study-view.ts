/**
 * The study view's interaction state, as one pure transition function: which landmark is selected, what
 * the landmark tool is doing (hover, drag, keyboard nudge, placing, calibrating), the stage before the
 * gesture in progress, and which dialog or message is open. Landmark sets themselves live in the study's
 * history (state/history.ts); actions that need them carry them, and landmark edits come back as effects
 * (`preview` a gesture in progress, `commit` a finished one) for the study editor to apply.
 *
 * Plain TypeScript: tested without a browser (test/renderer/study-view.test.ts).
 */
import type { Assessment } from '../../core/cvm/index';
import type { ImagePoint } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../../core/landmarks/index';
import { IDLE, movingLandmark, step, type ToolEvent, type ToolState, type ToolStep } from '../tools/landmark-tool';

export interface StudyMessage {
  readonly kind: 'error' | 'warning' | 'info';
  readonly text: string;
  readonly details?: readonly string[];
}

export interface StudyViewState {
  /** The landmark tool: hover, drag, a run of arrow presses (`nudging`), placing, calibrating. */
  readonly tool: ToolState;
  readonly selected: LandmarkName | null;
  /** The assessment before the gesture in progress, so the stage panel can show what changed. */
  readonly reference: Assessment | null;
  readonly showGhosts: boolean;
  readonly help: boolean;
  /** The calibration dialog, with the two marked points when they were marked on the image. */
  readonly calibrate: { readonly points: readonly [ImagePoint, ImagePoint] | null } | null;
  /** Approval waiting for the user's confirmation, and whether the next study opens afterwards. */
  readonly confirming: { readonly reasons: readonly string[]; readonly next: boolean } | null;
  readonly message: StudyMessage | null;
  readonly busy: string | null;
}

export const INITIAL_STUDY_VIEW: StudyViewState = {
  tool: IDLE,
  selected: null,
  reference: null,
  showGhosts: true,
  help: false,
  calibrate: null,
  confirming: null,
  message: null,
  busy: null,
};

export type StudyViewAction =
  /** An event for the landmark tool (hover, drag move and end, placing clicks, cancel, calibrating). */
  | { readonly type: 'tool'; readonly event: ToolEvent }
  /** A handle was grabbed: it becomes the selection, and the stage before the drag is kept for comparison. */
  | {
      readonly type: 'dragStart';
      readonly name: LandmarkName;
      readonly landmarks: LandmarkSet;
      readonly assessment: Assessment | null;
    }
  | { readonly type: 'select'; readonly name: LandmarkName | null }
  /** Tab / Shift+Tab: the next or previous landmark present, in canonical order. */
  | { readonly type: 'selectRelative'; readonly delta: number; readonly landmarks: LandmarkSet }
  /** An arrow press: moves the selected landmark by (dx, dy) image pixels; presses in a row are one gesture. */
  | {
      readonly type: 'nudge';
      readonly dx: number;
      readonly dy: number;
      readonly landmarks: LandmarkSet;
      readonly assessment: Assessment | null;
    }
  /** The run of arrow presses is over (a pause, another action, leaving the study). */
  | { readonly type: 'finishNudge' }
  | { readonly type: 'toggleGhosts' }
  | { readonly type: 'help'; readonly open: boolean | 'toggle' }
  | { readonly type: 'calibrate'; readonly points: readonly [ImagePoint, ImagePoint] | null }
  | { readonly type: 'closeCalibrate' }
  | { readonly type: 'confirm'; readonly reasons: readonly string[]; readonly next: boolean }
  | { readonly type: 'closeConfirm' }
  | { readonly type: 'message'; readonly message: StudyMessage | null }
  | { readonly type: 'busy'; readonly busy: string | null };

/** What the study editor must do with the landmarks after an action. */
export type StudyEffect =
  /** Show `landmarks` (a gesture in progress): recompute the stage, record nothing. */
  | { readonly type: 'preview'; readonly landmarks: LandmarkSet }
  /** One finished gesture from `before` to `after` (default: the landmarks shown): one undo step, one save. */
  | {
      readonly type: 'commit';
      readonly before: LandmarkSet;
      readonly moved: readonly LandmarkName[];
      readonly after?: LandmarkSet;
    };

export interface Transition {
  readonly state: StudyViewState;
  readonly effects: readonly StudyEffect[];
}

const NO_EFFECTS: readonly StudyEffect[] = [];

/**
 * Applies a landmark tool step: its landmark effects go to the editor, the calibration points open the
 * dialog. A finished gesture ends the comparison with the stage from before it; a gesture that starts
 * (a new keyboard run) keeps `assessment` as that comparison.
 */
function applyTool(s: StudyViewState, t: ToolStep, assessment?: Assessment | null): Transition {
  let next: StudyViewState = { ...s, tool: t.state };
  const effects: StudyEffect[] = [];
  for (const effect of t.effects) {
    if (effect.type === 'calibrationPoints') next = { ...next, calibrate: { points: effect.points } };
    else if (effect.type === 'place') effects.push({ type: 'preview', landmarks: effect.landmarks });
    else {
      effects.push(effect);
      next = { ...next, reference: null };
    }
  }
  const runStarted = t.state.kind === 'nudging' && (s.tool.kind !== 'nudging' || s.tool.name !== t.state.name);
  if (runStarted && assessment !== undefined) next = { ...next, reference: assessment };
  return { state: next, effects };
}

/** The next state and what the editor must do. Pure. */
export function transition(s: StudyViewState, action: StudyViewAction): Transition {
  switch (action.type) {
    case 'tool':
      return applyTool(s, step(s.tool, action.event));
    case 'dragStart': {
      const t = applyTool(s, step(s.tool, { type: 'dragStart', name: action.name, landmarks: action.landmarks }));
      return { state: { ...t.state, selected: action.name, reference: action.assessment }, effects: t.effects };
    }
    case 'select': {
      // Choosing another landmark ends a keyboard run on the previous one.
      const t = s.tool.kind === 'nudging' ? applyTool(s, step(s.tool, { type: 'nudgeEnd' })) : null;
      return { state: { ...(t?.state ?? s), selected: action.name }, effects: t?.effects ?? NO_EFFECTS };
    }
    case 'selectRelative': {
      const present = LANDMARK_NAMES.filter((n) => action.landmarks[n]);
      if (present.length === 0) return { state: s, effects: NO_EFFECTS };
      // With nothing selected, Tab starts at the first landmark and Shift+Tab at the last.
      const i = s.selected ? present.indexOf(s.selected) : action.delta > 0 ? -1 : 0;
      const n = present.length;
      const selected = present[(((i + action.delta) % n) + n) % n] ?? null;
      return transition(s, { type: 'select', name: selected });
    }
    case 'nudge': {
      if (!s.selected) return { state: s, effects: NO_EFFECTS };
      const event = {
        type: 'nudge',
        name: s.selected,
        dx: action.dx,
        dy: action.dy,
        landmarks: action.landmarks,
      } as const;
      return applyTool(s, step(s.tool, event), action.assessment);
    }
    case 'finishNudge':
      return s.tool.kind === 'nudging'
        ? applyTool(s, step(s.tool, { type: 'nudgeEnd' }))
        : { state: s, effects: NO_EFFECTS };
    case 'toggleGhosts':
      return { state: { ...s, showGhosts: !s.showGhosts }, effects: NO_EFFECTS };
    case 'help':
      return { state: { ...s, help: action.open === 'toggle' ? !s.help : action.open }, effects: NO_EFFECTS };
    case 'calibrate':
      return { state: { ...s, calibrate: { points: action.points } }, effects: NO_EFFECTS };
    case 'closeCalibrate':
      return { state: { ...s, calibrate: null }, effects: NO_EFFECTS };
    case 'confirm':
      return { state: { ...s, confirming: { reasons: action.reasons, next: action.next } }, effects: NO_EFFECTS };
    case 'closeConfirm':
      return { state: { ...s, confirming: null }, effects: NO_EFFECTS };
    case 'message':
      return { state: { ...s, message: action.message }, effects: NO_EFFECTS };
    case 'busy':
      return { state: { ...s, busy: action.busy }, effects: NO_EFFECTS };
  }
}

/** The landmark the loupe magnifies: the one being dragged or nudged. */
export function loupeTarget(s: StudyViewState): LandmarkName | null {
  return movingLandmark(s.tool);
}

/** A run of arrow presses is in progress (not saved yet, on purpose). */
export const isNudging = (s: StudyViewState): boolean => s.tool.kind === 'nudging';
