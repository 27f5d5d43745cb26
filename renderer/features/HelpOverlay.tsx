import type { ReactNode } from 'react';
import { SHORTCUTS } from './study/keyboard';

export function HelpOverlay({ onClose }: { onClose: () => void }): ReactNode {
  return (
    <div className="dialog-backdrop" role="presentation" onClick={onClose}>
      <div className="dialog help" role="dialog" aria-modal="true" aria-labelledby="help-title" data-testid="help" onClick={(e) => e.stopPropagation()}>
        <h2 id="help-title">Keyboard shortcuts</h2>
        <table>
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.action}><th scope="row"><kbd>{s.keys}</kbd></th><td>{s.description}</td></tr>
            ))}
            <tr><th scope="row"><kbd>wheel</kbd></th><td>zoom around the cursor; drag empty space to pan</td></tr>
            <tr><th scope="row"><kbd>↑ ↓ Enter</kbd></th><td>worklist: move through studies and open one</td></tr>
          </tbody>
        </table>
        <div className="dialog-actions"><button type="button" autoFocus onClick={onClose}>Close</button></div>
      </div>
    </div>
  );
}
