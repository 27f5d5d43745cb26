/**
 * One function for every action of the study view, whether it comes from a shortcut (keyboard.ts) or a
 * toolbar button, so both always do the same thing.
 */
import { useCallback } from 'react';
import { LANDMARK_NAMES, type LandmarkName } from '../../../core/landmarks/index';
import type { StudyViewAction, StudyViewState } from '../../state/study-view';
import type { StudyAction } from './keyboard';
import type { DisplayWindowControl } from './useDisplayWindow';
import type { StudyCommands } from './useStudyCommands';
import type { StudyEditor } from './useStudyEditor';
import type { StudyViewBinding } from './useStudyViewState';
import type { Viewport } from './useViewport';

export interface StudyActionInput {
  readonly editor: StudyEditor;
  readonly binding: StudyViewBinding;
  readonly viewport: Viewport;
  readonly display: DisplayWindowControl;
  readonly commands: StudyCommands;
  readonly spacing: { readonly rowMm: number; readonly colMm: number } | null;
  readonly onBack: () => void;
}

export function useStudyActions({
  editor,
  binding,
  viewport,
  display,
  commands,
  spacing,
  onBack,
}: StudyActionInput): (action: StudyAction, shift: boolean) => boolean {
  const { store, dispatch, liveLandmarks } = binding;
  const selected: LandmarkName | null = binding.state.selected;
  const { reveal, fitImage, actualSize, fitRegionOfInterest } = viewport;
  const { nextPreset, autoPreset, invert } = display;

  const nudge = useCallback(
    (dxMm: number, dyMm: number): boolean => {
      const s: StudyViewState = store.getState();
      if (!s.selected) return false;
      // Without a pixel spacing, assume 0.1 mm per pixel.
      const dx = spacing ? dxMm / spacing.colMm : dxMm * 10;
      const dy = spacing ? dyMm / spacing.rowMm : dyMm * 10;
      dispatch({ type: 'nudge', dx, dy, landmarks: liveLandmarks.current, assessment: editor.assessment });
      return true;
    },
    [store, spacing, dispatch, liveLandmarks, editor.assessment],
  );

  const selectRelative = useCallback(
    (delta: number) => {
      dispatch({ type: 'selectRelative', delta, landmarks: liveLandmarks.current });
      // Keep the selected landmark on screen.
      const name = store.getState().selected;
      const p = name ? liveLandmarks.current[name] : undefined;
      if (p) reveal(p);
    },
    [dispatch, store, liveLandmarks, reveal],
  );

  return useCallback(
    (action: StudyAction, shift: boolean): boolean => {
      const stepMm = shift ? 1 : 0.1;
      // Any other action ends a run of arrow presses at once: the run is saved as one gesture first.
      if (!action.startsWith('nudge')) dispatch({ type: 'finishNudge' });
      const run = (a: StudyViewAction): true => {
        dispatch(a);
        return true;
      };
      switch (action) {
        case 'nextLandmark':
          selectRelative(1);
          return true;
        case 'previousLandmark':
          selectRelative(-1);
          return true;
        case 'deselect': {
          // Esc cancels placing or calibrating; otherwise it deselects (which ends a keyboard run, saved).
          const kind = store.getState().tool.kind;
          return kind === 'placing' || kind === 'calibrating' || kind === 'dragging'
            ? run({ type: 'tool', event: { type: 'cancel' } })
            : run({ type: 'select', name: null });
        }
        case 'nudgeLeft':
          return nudge(-stepMm, 0);
        case 'nudgeRight':
          return nudge(stepMm, 0);
        case 'nudgeUp':
          return nudge(0, -stepMm);
        case 'nudgeDown':
          return nudge(0, stepMm);
        case 'undo':
          editor.undo();
          return true;
        case 'redo':
          editor.redo();
          return true;
        case 'resetLandmark':
          if (selected) editor.resetToAi([selected]);
          return true;
        case 'resetAll':
          editor.resetToAi(LANDMARK_NAMES);
          return true;
        case 'fit':
          fitImage();
          return true;
        case 'actualSize':
          actualSize();
          return true;
        case 'region':
          fitRegionOfInterest();
          return true;
        case 'invert':
          invert();
          return true;
        case 'nextWindow':
          nextPreset();
          return true;
        case 'autoWindow':
          autoPreset();
          return true;
        case 'ghosts':
          return run({ type: 'toggleGhosts' });
        case 'analyze':
          void commands.runAnalysis();
          return true;
        case 'place':
          return run({ type: 'tool', event: { type: 'startPlacing', landmarks: liveLandmarks.current } });
        case 'calibrate':
          return run({ type: 'calibrate', points: null });
        case 'approve':
          void commands.approve(false);
          return true;
        case 'approveNext':
          void commands.approve(true);
          return true;
        case 'report':
          void commands.exportReport();
          return true;
        case 'print':
          void commands.print();
          return true;
        case 'help':
          return run({ type: 'help', open: 'toggle' });
        case 'worklist':
          onBack();
          return true;
      }
    },
    [
      dispatch,
      store,
      selectRelative,
      nudge,
      selected,
      editor,
      fitImage,
      actualSize,
      fitRegionOfInterest,
      invert,
      nextPreset,
      autoPreset,
      commands,
      liveLandmarks,
      onBack,
    ],
  );
}
