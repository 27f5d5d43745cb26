/**
 * The review of one study, in place: its status, whether it may be approved and why not (in the words of
 * the approval rules, core/review/approval.ts), Approve and Approve and next; and the confirmation dialog
 * for an approval the rules mark "check" (what the user confirms is recorded in the audit log).
 */
import { useId, useState, type ReactNode } from 'react';
import type { ReviewState } from '../../../core/api/studies';
import type { ApprovalDecision } from '../../../core/review/approval';
import { Choice } from '../Choice';
import { Dialog } from '../Dialog';

export function ApprovalPanel(props: {
  readonly review: ReviewState;
  readonly decision: ApprovalDecision;
  readonly hasLandmarks: boolean;
  readonly onApprove: () => void;
  readonly onApproveNext: () => void;
  readonly onReopen: () => void;
}): ReactNode {
  const { review, decision } = props;
  const reasonsId = useId();
  const approved = review.status === 'approved';
  const refused = decision.kind === 'refused';
  const approveButton = (onClick: () => void, testId: string, title: string, label: string): ReactNode => (
    <button
      type="button"
      className={refused ? '' : 'primary'}
      onClick={onClick}
      data-testid={testId}
      aria-describedby={decision.kind !== 'allowed' ? reasonsId : undefined}
      aria-disabled={refused}
      title={title}
    >
      {label}
    </button>
  );
  return (
    <section className="panel approval" aria-label="Review">
      <div className="approval-status">
        <span className={`review ${review.status}`} data-testid="review-status">
          {approved
            ? `Approved by ${review.by ?? '—'}`
            : review.status === 'in-progress'
              ? 'In progress'
              : 'Unreviewed'}
        </span>
        {approved && review.at && <span className="muted small">{new Date(review.at).toLocaleString()}</span>}
      </div>
      {!approved && decision.kind !== 'allowed' && (
        <div
          id={reasonsId}
          className={`notice ${refused ? 'error' : 'warning'} compact`}
          data-testid="approval-reasons"
          data-kind={decision.kind}
        >
          <strong>{refused ? 'Cannot be approved:' : 'Check before approving:'}</strong>
          <ul>
            {decision.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="approval-actions">
        {approved ? (
          <>
            <button
              type="button"
              onClick={props.onReopen}
              data-testid="approve"
              title="Withdraw the approval (back to in progress)"
            >
              Reopen
            </button>
            <button
              type="button"
              onClick={props.onApproveNext}
              data-testid="approve-next"
              title="Open the next study that is not approved (Ctrl+Enter)"
            >
              Next study
            </button>
          </>
        ) : (
          <>
            {approveButton(props.onApprove, 'approve', 'Approve and stay (Ctrl+Shift+Enter)', 'Approve')}
            {approveButton(
              props.onApproveNext,
              'approve-next',
              'Approve and open the next study that is not approved (Ctrl+Enter)',
              'Approve and next',
            )}
          </>
        )}
      </div>
    </section>
  );
}

export function ConfirmApprovalDialog({
  reasons,
  onConfirm,
  onCancel,
}: {
  readonly reasons: readonly string[];
  readonly onConfirm: (confirmation: string) => void;
  readonly onCancel: () => void;
}): ReactNode {
  const [checked, setChecked] = useState(false);
  const confirmation = `Checked every landmark on the image despite: ${reasons.join(' ')}`;
  return (
    <Dialog title="Approve this study?" onClose={onCancel} testId="confirm-approval">
      <p>The approval rules ask you to look again:</p>
      <ul className="reasons">
        {reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
      <Choice type="checkbox" checked={checked} onChange={setChecked} autoFocus testId="confirm-checked">
        I have checked every landmark on the image and approve the stage. (Recorded with my name in the audit log.)
      </Choice>
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          disabled={!checked}
          onClick={() => onConfirm(confirmation)}
          data-testid="confirm-approve"
        >
          Approve
        </button>
      </div>
    </Dialog>
  );
}
