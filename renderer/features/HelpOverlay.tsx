import type { ReactNode } from 'react';
import { Dialog } from './Dialog';
import { SHORTCUTS } from './study/keyboard';

export function HelpOverlay({ onClose }: { onClose: () => void }): ReactNode {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose} testId="help" className="help">
      <div className="dialog-actions top">
        <button type="button" onClick={onClose} data-autofocus>
          Close
        </button>
      </div>
      <table>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.action}>
              <th scope="row">
                <kbd>{s.keys}</kbd>
              </th>
              <td>{s.description}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">
              <kbd>wheel</kbd>
            </th>
            <td>zoom around the cursor; drag empty space to pan</td>
          </tr>
          <tr>
            <th scope="row">
              <kbd>↑ ↓ Enter</kbd>
            </th>
            <td>worklist: move through studies and open one</td>
          </tr>
        </tbody>
      </table>
    </Dialog>
  );
}
