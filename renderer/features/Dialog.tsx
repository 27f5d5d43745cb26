/**
 * A modal dialog that opens at the top of its content (never scrolled to the bottom by an autofocused
 * button), takes the focus, keeps Tab inside, closes with Esc and gives the focus back on close.
 */
import { useEffect, useRef, type ReactNode } from 'react';

export function Dialog(props: {
  readonly title: string;
  readonly onClose: () => void;
  readonly children: ReactNode;
  readonly testId?: string;
  readonly className?: string;
}): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  const { onClose } = props;
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  // Esc closes even when the focus left the dialog (e.g. its button was disabled while working).
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape' && !ref.current?.contains(document.activeElement)) {
        e.preventDefault();
        closeRef.current();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const el = ref.current;
    if (el) {
      el.scrollTop = 0;
      const first = el.querySelector<HTMLElement>('[data-autofocus]') ?? el;
      first.focus({ preventScroll: true });
      el.scrollTop = 0;
    }
    return () => previous?.focus?.({ preventScroll: true });
  }, []);
  const onKeyDown = (e: React.KeyboardEvent): void => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      e.preventDefault();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !ref.current) return;
    const focusable = [
      ...ref.current.querySelectorAll<HTMLElement>(
        'button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])',
      ),
    ].filter((x) => !x.hasAttribute('disabled') && x.offsetParent !== null);
    const first = focusable[0];
    const last = focusable.at(-1);
    if (!first || !last) return;
    if (e.shiftKey && (document.activeElement === first || document.activeElement === ref.current)) {
      last.focus();
      e.preventDefault();
    } else if (!e.shiftKey && document.activeElement === last) {
      first.focus();
      e.preventDefault();
    }
    e.stopPropagation();
  };
  return (
    <div
      className="dialog-backdrop"
      role="presentation"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div
        ref={ref}
        className={`dialog ${props.className ?? ''}`}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        tabIndex={-1}
        data-testid={props.testId}
        onKeyDown={onKeyDown}
      >
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}
