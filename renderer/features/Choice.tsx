/** A radio button or checkbox with its label, as the dialogs lay them out (`label.radio`: control, then text). */
import type { ReactNode } from 'react';

export function Choice(props: {
  readonly type: 'radio' | 'checkbox';
  /** Radio buttons of one group share a name. */
  readonly name?: string;
  readonly checked: boolean;
  readonly onChange: (checked: boolean) => void;
  readonly testId: string;
  /** The dialog's first control (Dialog focuses it on open). */
  readonly autoFocus?: boolean;
  readonly children: ReactNode;
}): ReactNode {
  return (
    <label className="radio">
      <input
        type={props.type}
        name={props.name}
        checked={props.checked}
        onChange={(e) => props.onChange(e.target.checked)}
        data-autofocus={props.autoFocus || undefined}
        data-testid={props.testId}
      />
      {props.children}
    </label>
  );
}
