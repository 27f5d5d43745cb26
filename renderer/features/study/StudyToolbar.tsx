/** The study's toolbar: back, analyse, place, undo/redo, window/level, zoom, ghosts, report, save state. */
import { useEffect, type ReactNode } from 'react';
import type { WindowPreset } from '../../../core/api/index';
import type { StudyAction } from './keyboard';
import type { SaveState } from './useStudyEditor';

function saveLabel(s: SaveState): string {
  if (s.kind === 'saved') return 'Saved';
  if (s.kind === 'saving') return 'Saving…';
  if (s.kind === 'retrying') return 'Not saved yet: retrying';
  return 'Not saved';
}

function titlePrefix(s: SaveState): string {
  if (s.kind === 'saved') return 'Saved';
  if (s.kind === 'saving') return '● Saving…';
  if (s.kind === 'retrying') return '● Retrying save…';
  return '⚠ Not saved';
}

/** The window title says whether the study is saved, like a document editor's. */
export function useSaveStateTitle(saveState: SaveState, name: string): void {
  useEffect(() => {
    document.title = `${titlePrefix(saveState)} — ${name} — CVM Workstation`;
  }, [saveState, name]);
}

export interface StudyToolbarProps {
  readonly title: string;
  /** Tooltip of the title: patient id and file name. */
  readonly titleDetail: string;
  readonly busy: boolean;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  readonly hasAi: boolean;
  readonly hasLandmarks: boolean;
  readonly windows: readonly WindowPreset[];
  readonly presetIndex: number;
  readonly inverted: boolean;
  readonly showGhosts: boolean;
  readonly saveState: SaveState;
  /** A keyboard run is in progress: not saved yet, on purpose. */
  readonly editing: boolean;
  readonly perform: (action: StudyAction, shift: boolean) => boolean;
  readonly onChoosePreset: (index: number) => void;
  readonly onBack: () => void;
  readonly onHelp: () => void;
}

export function StudyToolbar(p: StudyToolbarProps): ReactNode {
  const act = (action: StudyAction) => () => void p.perform(action, false);
  return (
    <div className="study-toolbar" role="toolbar" aria-label="Study tools">
      <button type="button" onClick={p.onBack} title="Back to the worklist (Backspace)">
        ◀ Worklist
      </button>
      <h1 className="study-title" title={p.titleDetail}>
        {p.title}
      </h1>
      <button
        type="button"
        onClick={act('analyze')}
        disabled={p.busy}
        data-testid="analyze"
        title="Run the AI analysis (Shift+A)"
      >
        Analyze
      </button>
      <button type="button" onClick={act('place')} data-testid="place" title="Place the landmarks by clicking (P)">
        Place
      </button>
      <span className="sep" />
      <button type="button" onClick={act('undo')} disabled={!p.canUndo} data-testid="undo" title="Undo (Ctrl+Z)">
        Undo
      </button>
      <button type="button" onClick={act('redo')} disabled={!p.canRedo} data-testid="redo" title="Redo (Ctrl+Shift+Z)">
        Redo
      </button>
      <button
        type="button"
        onClick={act('resetAll')}
        disabled={!p.hasAi}
        title="Reset all landmarks to the AI prediction (Shift+X)"
      >
        Reset all
      </button>
      <span className="sep" />
      <label className="inline" title="Window/level preset (W)">
        W/L
        <select
          value={p.presetIndex}
          data-testid="window-preset"
          title={p.windows[p.presetIndex]?.name}
          onChange={(e) => p.onChoosePreset(Number(e.target.value))}
        >
          {p.windows.map((w, i) => (
            <option key={`${w.name}-${i}`} value={i}>
              {w.name}
            </option>
          ))}
        </select>
      </label>
      <button type="button" aria-pressed={p.inverted} onClick={act('invert')} title="Invert (I)">
        Invert
      </button>
      <button type="button" onClick={act('fit')} title="Fit (F)">
        Fit
      </button>
      <button
        type="button"
        onClick={act('actualSize')}
        title="One image pixel per screen pixel (1)"
        aria-label="1:1 (one image pixel per screen pixel)"
      >
        1:1
      </button>
      <button
        type="button"
        onClick={act('region')}
        disabled={!p.hasLandmarks}
        data-testid="zoom-region"
        title="Zoom to C2-C4 (R)"
      >
        C2–C4
      </button>
      <button type="button" aria-pressed={p.showGhosts} onClick={act('ghosts')} title="AI prediction as ghosts (G)">
        Ghosts
      </button>
      <span className="sep" />
      <button
        type="button"
        onClick={act('report')}
        data-testid="export-report"
        title="Save the report as PDF and PNG (Ctrl+E)"
      >
        Report
      </button>
      <button type="button" onClick={act('print')} data-testid="print-report" title="Print the report (Ctrl+P)">
        Print
      </button>
      <span className="spacer" />
      <span
        className={`save-state ${p.editing ? 'saving' : p.saveState.kind}`}
        data-testid="save-state"
        role="status"
        title={p.saveState.kind === 'error' ? p.saveState.message : undefined}
      >
        {p.editing ? 'Editing…' : saveLabel(p.saveState)}
      </span>
      <button type="button" onClick={p.onHelp} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">
        ?
      </button>
    </div>
  );
}
