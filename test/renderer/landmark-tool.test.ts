import { describe, expect, it } from 'vitest';
import { imagePoint } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkSet } from '../../core/landmarks/index';
import { IDLE, nextMissing, step, type ToolState } from '../../renderer/tools/landmark-tool';

const set: LandmarkSet = { C2p: imagePoint(1, 2) };

describe('landmark tool state machine', () => {
  it('a drag that moved commits one gesture with the state from before it', () => {
    let s: ToolState = IDLE;
    s = step(s, { type: 'dragStart', name: 'C2p', landmarks: set }).state;
    s = step(s, { type: 'dragMove' }).state;
    s = step(s, { type: 'dragMove' }).state;
    const end = step(s, { type: 'dragEnd' });
    expect(end.effect).toEqual({ type: 'commit', before: set, moved: ['C2p'] });
    expect(end.state).toEqual({ kind: 'idle', hover: 'C2p' });
  });

  it('a click on a handle without movement records nothing', () => {
    const s = step(IDLE, { type: 'dragStart', name: 'C2p', landmarks: set }).state;
    expect(step(s, { type: 'dragEnd' }).effect).toEqual({ type: 'none' });
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
      if (r.effect.type === 'place') landmarks = r.effect.landmarks;
      if (i === LANDMARK_NAMES.length - 1) {
        expect(r.effect.type).toBe('commit');
        if (r.effect.type === 'commit') expect(Object.keys(r.effect.after ?? {})).toHaveLength(13);
      }
    }
    expect(asked).toEqual([...LANDMARK_NAMES]);
    expect(state).toEqual(IDLE);
  });

  it('cancelling placement restores the landmarks from before it', () => {
    const { state } = step(IDLE, { type: 'startPlacing', landmarks: set });
    expect(step(state, { type: 'cancel' }).effect).toEqual({ type: 'place', landmarks: set });
  });

  it('calibration takes two clicks and then reports both points', () => {
    let { state } = step(IDLE, { type: 'startCalibrating' });
    state = step(state, { type: 'click', at: imagePoint(0, 0), landmarks: {} }).state;
    const r = step(state, { type: 'click', at: imagePoint(0, 100), landmarks: {} });
    expect(r.effect).toEqual({ type: 'calibrationPoints', points: [imagePoint(0, 0), imagePoint(0, 100)] });
    expect(r.state).toEqual(IDLE);
  });

  it('the next missing landmark follows canonical order', () => {
    expect(nextMissing({})).toBe('C2p');
    expect(nextMissing({ C2p: imagePoint(0, 0), C2m: imagePoint(0, 0) })).toBe('C2a');
  });
});
