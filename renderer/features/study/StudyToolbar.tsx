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
  /** A button that performs one action of the table the keyboard shortcuts use too. */
  const tool = (
    action: StudyAction,
    label: string,
    title: string,
    o: { testId?: string; disabled?: boolean; pressed?: boolean; ariaLabel?: string } = {},
  ): ReactNode => (
    <button
      type="button"
      onClick={act(action)}
      disabled={o.disabled}
      aria-pressed={o.pressed}
      aria-label={o.ariaLabel}
      data-testid={o.testId}
      title={title}
    >
      {label}
    </button>
  );
  return (
    <div className="study-toolbar" role="toolbar" aria-label="Study tools">
      <button type="button" onClick={p.onBack} title="Back to the worklist (Backspace)">
        ◀ Worklist
      </button>
      <h1 className="study-title" title={p.titleDetail}>
        {p.title}
      </h1>
      {tool('analyze', 'Analyze', 'Run the AI analysis (Shift+A)', { disabled: p.busy, testId: 'analyze' })}
      {tool('place', 'Place', 'Place the landmarks by clicking (P)', { testId: 'place' })}
      <span className="sep" />
      {tool('undo', 'Undo', 'Undo (Ctrl+Z)', { disabled: !p.canUndo, testId: 'undo' })}
      {tool('redo', 'Redo', 'Redo (Ctrl+Shift+Z)', { disabled: !p.canRedo, testId: 'redo' })}
      {tool('resetAll', 'Reset all', 'Reset all landmarks to the AI prediction (Shift+X)', { disabled: !p.hasAi })}
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
      {tool('invert', 'Invert', 'Invert (I)', { pressed: p.inverted })}
      {tool('fit', 'Fit', 'Fit (F)')}
      {tool('actualSize', '1:1', 'One image pixel per screen pixel (1)', {
        ariaLabel: '1:1 (one image pixel per screen pixel)',
      })}
      {tool('region', 'C2–C4', 'Zoom to C2-C4 (R)', { disabled: !p.hasLandmarks, testId: 'zoom-region' })}
      {tool('ghosts', 'Ghosts', 'AI prediction as ghosts (G)', { pressed: p.showGhosts })}
      <span className="sep" />
      {tool('report', 'Report', 'Save the report as PDF and PNG (Ctrl+E)', { testId: 'export-report' })}
      {tool('print', 'Print', 'Print the report (Ctrl+P)', { testId: 'print-report' })}
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
