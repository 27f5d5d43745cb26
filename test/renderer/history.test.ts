import { describe, expect, it } from 'vitest';
import { canRedo, canUndo, commit, createHistory, preview, redo, undo } from '../../renderer/state/history';

describe('undo history', () => {
  it('a gesture previewed many times is one undo step', () => {
    let h = createHistory('a');
    h = preview(h, 'a1');
    h = preview(h, 'a2');
    h = commit(h, 'b', 'a');
    expect(h.past).toEqual(['a']);
    expect(undo(h).present).toBe('a');
  });

  it('redo replays what undo took back, and a new gesture clears redo', () => {
    let h = commit(commit(createHistory(1), 2), 3);
    h = undo(undo(h));
    expect(h.present).toBe(1);
    h = redo(h);
    expect(h.present).toBe(2);
    expect(canRedo(h)).toBe(true);
    h = commit(h, 9);
    expect(canRedo(h)).toBe(false);
  });

  it('undo with nothing to undo changes nothing', () => {
    const h = createHistory('x');
    expect(undo(h)).toBe(h);
    expect(canUndo(h)).toBe(false);
  });
});
