import { describe, expect, it } from 'vitest';
import { assess } from '../../core/cvm/index';
import { imagePoint } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkSet } from '../../core/landmarks/index';
import { createStore } from '../../renderer/state/store';
import {
  INITIAL_STUDY_VIEW,
  loupeTarget,
  transition,
  type StudyEffect,
  type StudyViewAction,
  type StudyViewState,
} from '../../renderer/state/study-view';

const set: LandmarkSet = { C2p: imagePoint(10, 20), C3m: imagePoint(30, 40), C4m: imagePoint(50, 60) };

/** Runs actions in order, feeding every preview back as the landmarks shown (as the study editor does). */
function run(
  actions: readonly ((shown: LandmarkSet) => StudyViewAction)[],
  start: StudyViewState = INITIAL_STUDY_VIEW,
): { state: StudyViewState; effects: StudyEffect[]; shown: LandmarkSet } {
  let state = start;
  let shown = set;
  const effects: StudyEffect[] = [];
  for (const a of actions) {
    const t = transition(state, a(shown));
    state = t.state;
    for (const e of t.effects) {
      effects.push(e);
      if (e.type === 'preview') shown = e.landmarks;
      if (e.type === 'commit' && e.after) shown = e.after;
    }
  }
  return { state, effects, shown };
}

const nudge =
  (dx: number, dy: number) =>
  (landmarks: LandmarkSet): StudyViewAction => ({ type: 'nudge', dx, dy, landmarks, assessment: null });

describe('study view state', () => {
  it('Tab selects the landmarks present in canonical order and wraps around both ways', () => {
    const next = (shown: LandmarkSet): StudyViewAction => ({ type: 'selectRelative', delta: 1, landmarks: shown });
    const prev = (shown: LandmarkSet): StudyViewAction => ({ type: 'selectRelative', delta: -1, landmarks: shown });
    expect(run([next]).state.selected).toBe('C2p');
    expect(run([next, next]).state.selected).toBe('C3m');
    expect(run([next, next, next, next]).state.selected).toBe('C2p');
    expect(run([prev]).state.selected).toBe('C4m');
    expect(transition(INITIAL_STUDY_VIEW, { type: 'selectRelative', delta: 1, landmarks: {} }).state.selected).toBe(
      null,
    );
  });

  it('a run of arrow presses previews each press and commits one gesture from before the first', () => {
    const select = (): StudyViewAction => ({ type: 'select', name: 'C3m' });
    const r = run([select, nudge(0, -1), nudge(0, -1), nudge(2, 0), () => ({ type: 'finishNudge' })]);
    const previews = r.effects.filter((e) => e.type === 'preview');
    const commits = r.effects.filter((e) => e.type === 'commit');
    expect(previews).toHaveLength(3);
    expect(commits).toEqual([{ type: 'commit', before: set, moved: ['C3m'] }]);
    expect(r.shown.C3m).toEqual(imagePoint(32, 38));
    expect(r.shown.C2p).toEqual(set.C2p);
    expect(r.state.tool.kind).toBe('idle');
    // A second finish has nothing left to commit.
    expect(transition(r.state, { type: 'finishNudge' }).effects).toEqual([]);
  });

  it('nudging another landmark ends the first run: two gestures', () => {
    const r = run([
      () => ({ type: 'select', name: 'C3m' }),
      nudge(1, 0),
      () => ({ type: 'select', name: 'C4m' }),
      nudge(0, 1),
      () => ({ type: 'finishNudge' }),
    ]);
    const commits = r.effects.filter((e) => e.type === 'commit');
    expect(commits.map((c) => c.moved)).toEqual([['C3m'], ['C4m']]);
    expect(commits[0]?.before).toEqual(set);
    expect(commits[1]?.before.C3m).toEqual(imagePoint(31, 40));
  });

  it('an arrow press without a selection, or on a missing landmark, does nothing', () => {
    expect(run([nudge(1, 1)]).effects).toEqual([]);
    const missing = run([() => ({ type: 'select', name: 'C2a' }), nudge(1, 1)]);
    expect(missing.effects).toEqual([]);
    expect(missing.state.tool.kind).toBe('idle');
  });

  it('grabbing a handle ends a keyboard run first, selects it and keeps the stage from before the drag', () => {
    const full: LandmarkSet = Object.fromEntries(LANDMARK_NAMES.map((n, i) => [n, imagePoint(100 + i * 7, 200 + i)]));
    const before = assess(full, null);
    let s = transition(INITIAL_STUDY_VIEW, { type: 'select', name: 'C3m' }).state;
    s = transition(s, { type: 'nudge', dx: 1, dy: 0, landmarks: full, assessment: null }).state;
    const t = transition(s, { type: 'dragStart', name: 'C4m', landmarks: full, assessment: before });
    expect(t.effects).toEqual([{ type: 'commit', before: full, moved: ['C3m'] }]);
    expect(t.state.selected).toBe('C4m');
    expect(t.state.reference).toBe(before);
    expect(t.state.tool.kind).toBe('dragging');
    expect(loupeTarget(t.state)).toBe('C4m');
    s = transition(t.state, { type: 'tool', event: { type: 'dragMove' } }).state;
    const end = transition(s, { type: 'tool', event: { type: 'dragEnd' } });
    expect(end.effects).toEqual([{ type: 'commit', before: full, moved: ['C4m'] }]);
    // The comparison with the old stage ends with the gesture.
    expect(end.state.reference).toBeNull();
    expect(loupeTarget(end.state)).toBeNull();
  });

  it('marking the second calibration point opens the calibration dialog with both points', () => {
    let s = transition(INITIAL_STUDY_VIEW, { type: 'tool', event: { type: 'startCalibrating' } }).state;
    s = transition(s, { type: 'tool', event: { type: 'click', at: imagePoint(1, 1), landmarks: set } }).state;
    expect(s.calibrate).toBeNull();
    s = transition(s, { type: 'tool', event: { type: 'click', at: imagePoint(5, 1), landmarks: set } }).state;
    expect(s.calibrate).toEqual({ points: [imagePoint(1, 1), imagePoint(5, 1)] });
    expect(s.tool.kind).toBe('idle');
    expect(transition(s, { type: 'closeCalibrate' }).state.calibrate).toBeNull();
  });

  it('placing by hand previews each point and cancelling restores the landmarks from before', () => {
    let t = transition(INITIAL_STUDY_VIEW, { type: 'tool', event: { type: 'startPlacing', landmarks: set } });
    expect(t.effects).toEqual([{ type: 'preview', landmarks: {} }]);
    t = transition(t.state, { type: 'tool', event: { type: 'click', at: imagePoint(3, 4), landmarks: {} } });
    expect(t.effects).toEqual([{ type: 'preview', landmarks: { C2p: imagePoint(3, 4) } }]);
    t = transition(t.state, { type: 'tool', event: { type: 'cancel' } });
    expect(t.effects).toEqual([{ type: 'preview', landmarks: set }]);
    expect(t.state.tool.kind).toBe('idle');
  });

  it('dialogs, messages and toggles', () => {
    let s = transition(INITIAL_STUDY_VIEW, { type: 'help', open: 'toggle' }).state;
    expect(s.help).toBe(true);
    s = transition(s, { type: 'help', open: 'toggle' }).state;
    expect(s.help).toBe(false);
    s = transition(s, { type: 'toggleGhosts' }).state;
    expect(s.showGhosts).toBe(false);
    s = transition(s, { type: 'confirm', reasons: ['check C3'], next: true }).state;
    expect(s.confirming).toEqual({ reasons: ['check C3'], next: true });
    s = transition(s, { type: 'closeConfirm' }).state;
    expect(s.confirming).toBeNull();
    s = transition(s, { type: 'message', message: { kind: 'info', text: 'ok' } }).state;
    s = transition(s, { type: 'busy', busy: 'Analysing…' }).state;
    expect([s.message?.text, s.busy]).toEqual(['ok', 'Analysing…']);
  });
});

describe('store', () => {
  it('state is current when dispatch returns; listeners hear changes only', () => {
    const store = createStore(INITIAL_STUDY_VIEW, transition);
    let heard = 0;
    const stop = store.subscribe(() => heard++);
    store.dispatch({ type: 'select', name: 'C3m' });
    expect(store.getState().selected).toBe('C3m');
    const effects = store.dispatch({ type: 'nudge', dx: 1, dy: 0, landmarks: set, assessment: null });
    expect(effects).toEqual([{ type: 'preview', landmarks: { ...set, C3m: imagePoint(31, 40) } }]);
    expect(store.getState().tool).toEqual({ kind: 'nudging', name: 'C3m', before: set });
    expect(heard).toBe(2);
    store.dispatch({ type: 'finishNudge' });
    store.dispatch({ type: 'finishNudge' }); // nothing to finish: same state, no notification
    expect(heard).toBe(3);
    stop();
    store.dispatch({ type: 'select', name: null });
    expect(heard).toBe(3);
  });
});
