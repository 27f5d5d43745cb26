/** Keyboard shortcuts of the study view, in one table: the handler and the help overlay both read it. */
export type StudyAction =
  | 'nextLandmark'
  | 'previousLandmark'
  | 'deselect'
  | 'nudgeLeft'
  | 'nudgeRight'
  | 'nudgeUp'
  | 'nudgeDown'
  | 'undo'
  | 'redo'
  | 'resetLandmark'
  | 'resetAll'
  | 'fit'
  | 'actualSize'
  | 'region'
  | 'invert'
  | 'nextWindow'
  | 'autoWindow'
  | 'ghosts'
  | 'analyze'
  | 'place'
  | 'calibrate'
  | 'approve'
  | 'approveNext'
  | 'report'
  | 'print'
  | 'help'
  | 'worklist';

export interface Shortcut {
  readonly action: StudyAction;
  readonly keys: string;
  readonly description: string;
  readonly matches: (e: KeyboardEvent) => boolean;
}

const mod = (e: KeyboardEvent): boolean => e.ctrlKey || e.metaKey;
const plain = (e: KeyboardEvent): boolean => !e.ctrlKey && !e.metaKey && !e.altKey;

export const SHORTCUTS: readonly Shortcut[] = [
  {
    action: 'nextLandmark',
    keys: 'Tab',
    description: 'select the next landmark',
    matches: (e) => e.key === 'Tab' && !e.shiftKey && plain(e),
  },
  {
    action: 'previousLandmark',
    keys: 'Shift+Tab',
    description: 'select the previous landmark',
    matches: (e) => e.key === 'Tab' && e.shiftKey && plain(e),
  },
  {
    action: 'deselect',
    keys: 'Esc',
    description: 'deselect, or cancel placing / calibrating',
    matches: (e) => e.key === 'Escape',
  },
  {
    action: 'nudgeLeft',
    keys: '← (Shift: ×10)',
    description: 'move the selected landmark 0.1 mm left (Shift: 1 mm)',
    matches: (e) => e.key === 'ArrowLeft' && plain(e),
  },
  { action: 'nudgeRight', keys: '→', description: 'move it right', matches: (e) => e.key === 'ArrowRight' && plain(e) },
  { action: 'nudgeUp', keys: '↑', description: 'move it up', matches: (e) => e.key === 'ArrowUp' && plain(e) },
  { action: 'nudgeDown', keys: '↓', description: 'move it down', matches: (e) => e.key === 'ArrowDown' && plain(e) },
  {
    action: 'undo',
    keys: 'Ctrl+Z',
    description: 'undo the last gesture',
    matches: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'z',
  },
  {
    action: 'redo',
    keys: 'Ctrl+Shift+Z / Ctrl+Y',
    description: 'redo',
    matches: (e) => mod(e) && ((e.shiftKey && e.key.toLowerCase() === 'z') || e.key.toLowerCase() === 'y'),
  },
  {
    action: 'resetLandmark',
    keys: 'X',
    description: 'reset the selected landmark to the AI prediction',
    matches: (e) => plain(e) && !e.shiftKey && e.key.toLowerCase() === 'x',
  },
  {
    action: 'resetAll',
    keys: 'Shift+X',
    description: 'reset all landmarks to the AI prediction',
    matches: (e) => plain(e) && e.shiftKey && e.key.toLowerCase() === 'x',
  },
  {
    action: 'fit',
    keys: 'F',
    description: 'fit the image to the window',
    matches: (e) => plain(e) && e.key.toLowerCase() === 'f',
  },
  {
    action: 'actualSize',
    keys: '1',
    description: 'one image pixel per screen pixel',
    matches: (e) => plain(e) && e.key === '1',
  },
  {
    action: 'region',
    keys: 'R',
    description: 'zoom to C2-C4',
    matches: (e) => plain(e) && e.key.toLowerCase() === 'r',
  },
  {
    action: 'invert',
    keys: 'I',
    description: 'invert grey levels',
    matches: (e) => plain(e) && e.key.toLowerCase() === 'i',
  },
  {
    action: 'nextWindow',
    keys: 'W',
    description: 'next window/level preset (drag with Ctrl or the right button to adjust)',
    matches: (e) => plain(e) && !e.shiftKey && e.key.toLowerCase() === 'w',
  },
  {
    action: 'autoWindow',
    keys: 'Shift+W',
    description: 'automatic window/level',
    matches: (e) => plain(e) && e.shiftKey && e.key.toLowerCase() === 'w',
  },
  {
    action: 'ghosts',
    keys: 'G',
    description: 'show or hide the AI prediction as ghosts',
    matches: (e) => plain(e) && e.key.toLowerCase() === 'g',
  },
  {
    action: 'analyze',
    keys: 'Shift+A',
    description: 'run the AI analysis',
    matches: (e) => plain(e) && e.shiftKey && e.key.toLowerCase() === 'a',
  },
  {
    action: 'place',
    keys: 'P',
    description: 'place the 13 landmarks by clicking, in order',
    matches: (e) => plain(e) && e.key.toLowerCase() === 'p',
  },
  {
    action: 'calibrate',
    keys: 'C',
    description: 'calibrate the pixel spacing',
    matches: (e) => plain(e) && e.key.toLowerCase() === 'c',
  },
  {
    action: 'approveNext',
    keys: 'Ctrl+Enter',
    description: 'approve and open the next study of the worklist that is not approved',
    matches: (e) => mod(e) && !e.shiftKey && e.key === 'Enter',
  },
  {
    action: 'approve',
    keys: 'Ctrl+Shift+Enter',
    description: 'approve and stay on this study',
    matches: (e) => mod(e) && e.shiftKey && e.key === 'Enter',
  },
  {
    action: 'report',
    keys: 'Ctrl+E',
    description: 'export the one-page report (PDF and PNG)',
    matches: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'e',
  },
  {
    action: 'print',
    keys: 'Ctrl+P',
    description: 'print the report',
    matches: (e) => mod(e) && e.key.toLowerCase() === 'p',
  },
  {
    action: 'help',
    keys: '?',
    description: 'show or hide this list',
    matches: (e) => e.key === '?' || (plain(e) && e.key === 'F1'),
  },
  {
    action: 'worklist',
    keys: 'Backspace',
    description: 'back to the worklist',
    matches: (e) => plain(e) && e.key === 'Backspace',
  },
];

export function actionFor(e: KeyboardEvent): StudyAction | null {
  return SHORTCUTS.find((s) => s.matches(e))?.action ?? null;
}
