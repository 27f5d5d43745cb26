/**
 * The study view's keyboard: shortcuts from the one table in keyboard.ts, and the end of a run of arrow
 * presses. A run is one gesture (one undo step, one saved version): it ends when no arrow key follows
 * within a moment, at once when anything else happens, and when the study is left.
 */
import { useEffect, useRef, type RefObject } from 'react';
import { isNudging, type StudyViewState } from '../../state/study-view';
import { actionFor, type StudyAction } from './keyboard';
import type { StudyViewStore } from './useStudyViewState';

/** Arrow presses closer together than this belong to one gesture. */
export const NUDGE_RUN_MS = 800;

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName))
  );
}

export function useStudyKeyboard({
  state,
  store,
  finishNudge,
  perform,
  closeHelp,
  viewer,
}: {
  state: StudyViewState;
  store: StudyViewStore;
  finishNudge: () => void;
  /** Carries out a shortcut's action; false when it did nothing (the key keeps its default). */
  perform: (action: StudyAction, shift: boolean) => boolean;
  closeHelp: () => void;
  viewer: RefObject<HTMLElement | null>;
}): void {
  const { calibrate, confirming, help } = state;
  const nudgeTimer = useRef<number | null>(null);

  useEffect(() => {
    const stopTimer = (): void => {
      if (nudgeTimer.current !== null) window.clearTimeout(nudgeTimer.current);
      nudgeTimer.current = null;
    };
    const down = (e: KeyboardEvent): void => {
      if (isTyping(e.target) || calibrate || confirming || (help && e.key !== 'Escape' && e.key !== '?')) return;
      if (help && (e.key === 'Escape' || e.key === '?')) {
        closeHelp();
        e.preventDefault();
        return;
      }
      // Buttons, links and list items handle Enter and Space themselves.
      if (
        (e.key === 'Enter' || e.key === ' ') &&
        !e.ctrlKey &&
        !e.metaKey &&
        e.target instanceof HTMLElement &&
        e.target.closest('button, a, summary')
      )
        return;
      if (e.key.startsWith('Arrow')) stopTimer();
      const action = actionFor(e);
      if (!action) return;
      // Tab cycles landmarks only while the image has the focus; elsewhere it moves focus as usual.
      const onImage =
        document.activeElement === document.body || viewer.current?.contains(document.activeElement) === true;
      if ((action === 'nextLandmark' || action === 'previousLandmark') && !onImage) return;
      if (perform(action, e.shiftKey)) e.preventDefault();
    };
    const up = (e: KeyboardEvent): void => {
      if (!e.key.startsWith('Arrow') || !isNudging(store.getState())) return;
      stopTimer();
      nudgeTimer.current = window.setTimeout(() => {
        nudgeTimer.current = null;
        finishNudge();
      }, NUDGE_RUN_MS);
    };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, [perform, finishNudge, closeHelp, store, viewer, calibrate, help, confirming]);

  // Leaving the study ends a keyboard run: it is saved, not lost.
  const finishRef = useRef(finishNudge);
  finishRef.current = finishNudge;
  useEffect(
    () => () => {
      if (nudgeTimer.current !== null) window.clearTimeout(nudgeTimer.current);
      finishRef.current();
    },
    [],
  );
}
