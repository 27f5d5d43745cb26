/**
 * The study view's interaction state (state/study-view.ts) bound to one open study: dispatching an action
 * carries out its landmark effects on the study editor at once, so the next event of the same drag or key
 * run already sees them.
 */
import { useCallback, useMemo, useRef, useSyncExternalStore, type MutableRefObject } from 'react';
import type { LandmarkSet } from '../../../core/landmarks/index';
import { createStore, type Store } from '../../state/store';
import {
  INITIAL_STUDY_VIEW,
  transition,
  type StudyEffect,
  type StudyViewAction,
  type StudyViewState,
} from '../../state/study-view';
import type { StudyEditor } from './useStudyEditor';

export type StudyViewStore = Store<StudyViewState, StudyViewAction, StudyEffect>;

export interface StudyViewBinding {
  readonly state: StudyViewState;
  readonly store: StudyViewStore;
  dispatch(action: StudyViewAction): void;
  /** The landmarks shown now, ahead of React's next render while a gesture is in progress. */
  readonly liveLandmarks: MutableRefObject<LandmarkSet>;
}

export function useStudyViewState(editor: StudyEditor): StudyViewBinding {
  const store = useMemo((): StudyViewStore => createStore(INITIAL_STUDY_VIEW, transition), []);
  const state = useSyncExternalStore(store.subscribe, store.getState);
  const liveLandmarks = useRef(editor.landmarks);
  liveLandmarks.current = editor.landmarks;
  const editorRef = useRef(editor);
  editorRef.current = editor;

  const dispatch = useCallback(
    (action: StudyViewAction) => {
      for (const effect of store.dispatch(action)) {
        if (effect.type === 'preview') {
          liveLandmarks.current = effect.landmarks;
          editorRef.current.previewLandmarks(effect.landmarks);
        } else {
          editorRef.current.commitGesture(effect.before, effect.moved, effect.after);
        }
      }
    },
    [store],
  );

  return { state, store, dispatch, liveLandmarks };
}
