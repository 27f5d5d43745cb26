import { describe, expect, it } from 'vitest';
import { imagePoint } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkSet } from '../../core/landmarks/index';
import { IDLE, movingLandmark, nextMissing, step, type ToolState } from '../../renderer/tools/landmark-tool';

const set: LandmarkSet = { C2p: imagePoint(1, 2) };

describe('landmark tool state machine', () => {
  it('a drag that moved commits one gesture with the state from before it', () => {
    let s: ToolState = IDLE;
    s = step(s, { type: 'dragStart', name: 'C2p', landmarks: set }).state;
    s = step(s, { type: 'dragMove' }).state;
    s = step(s, { type: 'dragMove' }).state;
    const end = step(s, { type: 'dragEnd' });
    expect(end.effects).toEqual([{ type: 'commit', before: set, moved: ['C2p'] }]);
    expect(end.state).toEqual({ kind: 'idle', hover: 'C2p' });
  });

  it('a click on a handle without movement records nothing', () => {
    const s = step(IDLE, { type: 'dragStart', name: 'C2p', landmarks: set }).state;
    expect(step(s, { type: 'dragEnd' }).effects).toEqual([]);
  });

  it('hovering while dragging does not change the drag', () => {
    const s = step(IDLE, { type: 'dragStart', name: 'C2p', landmarks: set }).state;
    expect(step(s, { type: 'hover', name: 'C3m' }).state).toBe(s);
  });

  it('placing by hand asks for the landmarks in canonical order and commits after the 13th', () => {
    let { state } = step(IDLE, { type: 'startPlacing', landmarks: {} });
    let landmarks: LandmarkSet = {};
    const asked: string[] = [];
    for (let i = 0; i < LANDMARK_NAMES.length; i++) {
      expect(state.kind).toBe('placing');
      if (state.kind === 'placing') asked.push(state.next);
      const r = step(state, { type: 'click', at: imagePoint(i, i), landmarks });
      state = r.state;
      const [effect] = r.effects;
      expect(r.effects).toHaveLength(1);
      if (effect?.type === 'place') landmarks = effect.landmarks;
      if (i === LANDMARK_NAMES.length - 1) {
        expect(effect?.type).toBe('commit');
        if (effect?.type === 'commit') expect(Object.keys(effect.after ?? {})).toHaveLength(13);
      }
    }
    expect(asked).toEqual([...LANDMARK_NAMES]);
    expect(state).toEqual(IDLE);
  });

  it('cancelling placement restores the landmarks from before it', () => {
    const { state } = step(IDLE, { type: 'startPlacing', landmarks: set });
    expect(step(state, { type: 'cancel' }).effects).toEqual([{ type: 'place', landmarks: set }]);
  });

  it('calibration takes two clicks and then reports both points', () => {
    let { state } = step(IDLE, { type: 'startCalibrating' });
    state = step(state, { type: 'click', at: imagePoint(0, 0), landmarks: {} }).state;
    const r = step(state, { type: 'click', at: imagePoint(0, 100), landmarks: {} });
    expect(r.effects).toEqual([{ type: 'calibrationPoints', points: [imagePoint(0, 0), imagePoint(0, 100)] }]);
    expect(r.state).toEqual(IDLE);
  });

  it('a run of arrow presses is one gesture: each press previews, the end commits once from before the first', () => {
    const two: LandmarkSet = { C2p: imagePoint(1, 2), C3m: imagePoint(5, 5) };
    let r = step(IDLE, { type: 'nudge', name: 'C3m', dx: 0, dy: -1, landmarks: two });
    expect(r.state).toEqual({ kind: 'nudging', name: 'C3m', before: two });
    expect(r.effects).toEqual([{ type: 'place', landmarks: { ...two, C3m: imagePoint(5, 4) } }]);
    r = step(r.state, { type: 'nudge', name: 'C3m', dx: 2, dy: 0, landmarks: { ...two, C3m: imagePoint(5, 4) } });
    expect(r.effects).toEqual([{ type: 'place', landmarks: { ...two, C3m: imagePoint(7, 4) } }]);
    expect(movingLandmark(r.state)).toBe('C3m');
    r = step(r.state, { type: 'hover', name: 'C2p' }); // hovering does not end the run
    expect(r.state.kind).toBe('nudging');
    const end = step(r.state, { type: 'nudgeEnd' });
    expect(end.effects).toEqual([{ type: 'commit', before: two, moved: ['C3m'] }]);
    expect(end.state.kind).toBe('idle');
    expect(step(end.state, { type: 'nudgeEnd' }).effects).toEqual([]);
  });

  it('anything else ends a keyboard run first: another landmark, a drag, placing, Esc', () => {
    const two: LandmarkSet = { C2p: imagePoint(1, 2), C3m: imagePoint(5, 5) };
    const nudging = step(IDLE, { type: 'nudge', name: 'C3m', dx: 1, dy: 0, landmarks: two }).state;
    const moved = { ...two, C3m: imagePoint(6, 5) };
    const commit = { type: 'commit', before: two, moved: ['C3m'] };
    const other = step(nudging, { type: 'nudge', name: 'C2p', dx: 0, dy: 1, landmarks: moved });
    expect(other.effects).toEqual([commit, { type: 'place', landmarks: { ...moved, C2p: imagePoint(1, 3) } }]);
    expect(other.state).toEqual({ kind: 'nudging', name: 'C2p', before: moved });
    const drag = step(nudging, { type: 'dragStart', name: 'C2p', landmarks: moved });
    expect(drag.effects).toEqual([commit]);
    expect(drag.state.kind).toBe('dragging');
    const place = step(nudging, { type: 'startPlacing', landmarks: moved });
    expect(place.effects).toEqual([commit, { type: 'place', landmarks: {} }]);
    const esc = step(nudging, { type: 'cancel' });
    expect(esc.effects).toEqual([commit]);
    expect(esc.state).toEqual(IDLE);
  });

  it('an arrow press on a missing landmark, or while placing, does nothing', () => {
    expect(step(IDLE, { type: 'nudge', name: 'C4m', dx: 1, dy: 0, landmarks: set }).effects).toEqual([]);
    const placing = step(IDLE, { type: 'startPlacing', landmarks: set }).state;
    expect(step(placing, { type: 'nudge', name: 'C2p', dx: 1, dy: 0, landmarks: set }).state).toBe(placing);
  });

  it('the next missing landmark follows canonical order', () => {
    expect(nextMissing({})).toBe('C2p');
    expect(nextMissing({ C2p: imagePoint(0, 0), C2m: imagePoint(0, 0) })).toBe('C2a');
  });
});
