/** One look per kind of message: error (red, announced at once), warning (amber), info (blue). */
import { useState, type ReactNode } from 'react';

export interface NoticeState {
  readonly kind: 'error' | 'warning' | 'info';
  readonly text: string;
  /** Longer items (e.g. every refused file), shown on demand. */
  readonly details?: readonly string[];
}

const ICON = { error: '✖', warning: '⚠', info: 'ℹ' } as const;
const LABEL = { error: 'Error', warning: 'Warning', info: 'Note' } as const;

export function Notice({
  notice,
  onClose,
  testId,
}: {
  notice: NoticeState;
  onClose?: () => void;
  testId?: string;
}): ReactNode {
  const [open, setOpen] = useState(false);
  const details = notice.details ?? [];
  return (
    <div
      className={`notice ${notice.kind}`}
      role={notice.kind === 'error' ? 'alert' : 'status'}
      data-testid={testId}
      data-kind={notice.kind}
    >
      <span className="notice-icon" aria-hidden="true">
        {ICON[notice.kind]}
      </span>
      <span className="visually-hidden">{LABEL[notice.kind]}: </span>
      <span className="notice-text">{notice.text}</span>
      {details.length > 0 && (
        <button type="button" className="link small" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          {open ? 'hide details' : 'details'}
        </button>
      )}
      {onClose && (
        <button type="button" className="notice-close" onClick={onClose} aria-label="Dismiss this message">
          ×
        </button>
      )}
      {open && details.length > 0 && (
        <ul className="notice-details">
          {details.map((d, i) => (
            <li key={i}>{d}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
