/**
 * Patient identity on the growth timeline: merge another patient ID that is the same person, split a merged
 * patient off again, split a study that is someone else's off this patient, rejoin it. Each change asks for
 * confirmation in a dialog that says what happens and how to undo it; main writes it to the audit log and
 * rewrites no study.
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { IdentityChange, PatientListItem, TimelineResponse } from '../../../core/api/pacs';
import type { Result } from '../../../core/api/result';
import { api } from '../../api';
import { Dialog } from '../Dialog';

export type IdentityAction =
  | { readonly kind: 'merge'; readonly patientId: string; readonly patientName: string | null }
  | { readonly kind: 'split-patient'; readonly patientId: string; readonly fromId: string }
  | {
      readonly kind: 'split-study';
      readonly imageId: number;
      readonly studyDate: string | null;
      readonly patientId: string;
    }
  | {
      readonly kind: 'rejoin';
      readonly imageId: number;
      readonly studyDate: string | null;
      readonly patientId: string;
    };

export const displayName = (name: string | null): string => (name ?? '').replace(/\^+/g, ' ').trim() || 'no name';

/** The local patients whose ID or name contains `search` (after a short pause in typing); `reload` re-reads. */
export function usePatientSearch(
  search: string,
  limit: number,
  reload: unknown = null,
): { readonly rows: readonly PatientListItem[] | null; readonly error: string | null } {
  const [rows, setRows] = useState<readonly PatientListItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      void api.listPatients({ search: search.trim(), limit }).then((r) => {
        if (!live) return;
        if (r.ok) {
          setRows(r.value.patients);
          setError(null);
        } else setError(r.error.message);
      });
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [search, limit, reload]);
  return { rows, error };
}

/** The dialog for one identity change: merge asks whom first, then every change asks to confirm. */
export function IdentityDialog({
  action,
  onClose,
  onDone,
}: {
  readonly action: IdentityAction;
  readonly onClose: () => void;
  readonly onDone: (message: string) => void;
}): ReactNode {
  const [other, setOther] = useState<PatientListItem | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    let r: Result<IdentityChange>;
    if (action.kind === 'merge') {
      if (!other) return;
      r = await api.mergePatients({ patientId: action.patientId, otherPatientId: other.patientId });
    } else if (action.kind === 'split-patient') r = await api.splitPatient({ patientId: action.patientId });
    else if (action.kind === 'split-study') r = await api.splitStudy({ imageId: action.imageId });
    else r = await api.rejoinStudy({ imageId: action.imageId });
    setBusy(false);
    if (r.ok) onDone(r.value.message);
    else setError(r.error.message);
  };

  let title: string;
  let body: ReactNode;
  let confirm: string;
  if (action.kind === 'merge') {
    title = other ? 'Merge these patients?' : 'Same person as…';
    confirm = 'Merge';
    body = other ? (
      <>
        <p>
          Show <strong>{displayName(other.name)}</strong> (ID {other.patientId}, {other.studies}{' '}
          {other.studies === 1 ? 'study' : 'studies'}) as the same person as{' '}
          <strong>{displayName(action.patientName)}</strong> (ID {action.patientId})?
        </p>
        <p className="muted small">
          Their visits will share one growth timeline. No study is changed or moved; “Split off” undoes it. The change
          is recorded in the audit log with your name.
        </p>
      </>
    ) : (
      <PatientPicker exclude={action.patientId} onPick={setOther} />
    );
  } else if (action.kind === 'split-patient') {
    title = 'Split this patient off?';
    confirm = 'Split off';
    body = (
      <>
        <p>
          Patient ID <strong>{action.patientId}</strong> will no longer be shown as the same person as{' '}
          <strong>{action.fromId}</strong>: each gets its own growth timeline again.
        </p>
        <p className="muted small">No study is changed. The change is recorded in the audit log with your name.</p>
      </>
    );
  } else if (action.kind === 'split-study') {
    title = 'Split this study off the patient?';
    confirm = 'Split off';
    body = (
      <>
        <p>
          The study of <strong>{action.studyDate ?? 'unknown date'}</strong> will no longer be shown as patient{' '}
          <strong>{action.patientId}</strong>’s: it leaves this growth timeline and stands alone (for a study of another
          person filed under this ID).
        </p>
        <p className="muted small">
          The study itself, its landmarks and results are not changed; “Rejoin” undoes it. The change is recorded in the
          audit log with your name.
        </p>
      </>
    );
  } else {
    title = 'Rejoin this study?';
    confirm = 'Rejoin';
    body = (
      <p>
        The study of <strong>{action.studyDate ?? 'unknown date'}</strong> goes back on patient{' '}
        <strong>{action.patientId}</strong>’s growth timeline. The change is recorded in the audit log.
      </p>
    );
  }
  const canConfirm = action.kind !== 'merge' || other !== null;
  return (
    <Dialog title={title} onClose={onClose} testId="identity-dialog">
      {body}
      {error && (
        <p className="error-text" role="alert" data-testid="identity-error">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        {action.kind === 'merge' && other && (
          <button type="button" onClick={() => setOther(null)} disabled={busy}>
            Back
          </button>
        )}
        <button type="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        {canConfirm && (
          <button
            type="button"
            className="primary"
            onClick={() => void run()}
            disabled={busy}
            data-testid="confirm-identity"
            data-autofocus
          >
            {busy ? 'Working…' : confirm}
          </button>
        )}
      </div>
    </Dialog>
  );
}

/** Search of the local patients by ID or name; one button per patient. */
function PatientPicker({
  exclude,
  onPick,
}: {
  readonly exclude: string;
  readonly onPick: (p: PatientListItem) => void;
}): ReactNode {
  const [search, setSearch] = useState('');
  const found = usePatientSearch(search, 50);
  const rows = found.rows?.filter((p) => p.patientId !== exclude) ?? null;
  const error = found.error;
  return (
    <>
      <p>Which patient in this workstation is the same person as {exclude}?</p>
      <label>
        Patient ID or name
        <input
          type="text"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          data-testid="merge-search"
          data-autofocus
          placeholder="search"
        />
      </label>
      {error && <p className="error-text">{error}</p>}
      <ul className="patient-picker" data-testid="merge-candidates">
        {rows?.length === 0 && <li className="muted">No other patient matches.</li>}
        {rows?.map((p) => (
          <li key={p.patientId}>
            <button
              type="button"
              onClick={() => onPick(p)}
              disabled={p.mergedInto !== null}
              data-testid={`merge-pick-${p.patientId}`}
              title={p.mergedInto ? `Already merged into ${p.mergedInto}` : `Choose ${p.patientId}`}
            >
              {p.patientId}
            </button>
            <span>{displayName(p.name)}</span>
            <span className="muted small">
              {p.birthDate ?? 'born ?'} · {p.studies} {p.studies === 1 ? 'study' : 'studies'}
              {p.mergedInto ? ` · merged into ${p.mergedInto}` : ''}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** The identity lines and buttons under the timeline's title. */
export function IdentityBar({
  timeline,
  onAction,
}: {
  readonly timeline: TimelineResponse;
  readonly onAction: (a: IdentityAction) => void;
}): ReactNode {
  const pid = timeline.patientId;
  if (!pid) return null;
  const from = timeline.splitFrom;
  if (from)
    return (
      <div className="identity split-from" data-testid="identity-split-from">
        Split off patient {from.patientId} ({displayName(from.patientName)}) by {from.by} on {from.at.slice(0, 10)}:
        this study stands alone.{' '}
        <button
          type="button"
          className="link"
          data-testid="rejoin-study"
          onClick={() => {
            const [imageId] = from.imageIds;
            if (imageId !== undefined)
              onAction({ kind: 'rejoin', imageId, studyDate: from.studyDate, patientId: from.patientId });
          }}
        >
          Rejoin
        </button>
      </div>
    );
  return (
    <div className="identity" data-testid="identity">
      <button
        type="button"
        data-testid="merge-patient"
        title="Another patient ID in this workstation is the same person: show their visits on one timeline"
        onClick={() => onAction({ kind: 'merge', patientId: pid, patientName: timeline.patientName })}
      >
        Same person as…
      </button>
      {timeline.merged.map((m) => (
        <span key={m} className="identity-chip">
          merged: {m}{' '}
          <button
            type="button"
            className="link"
            data-testid={`split-patient-${m}`}
            onClick={() => onAction({ kind: 'split-patient', patientId: m, fromId: pid })}
          >
            Split off
          </button>
        </span>
      ))}
      {timeline.splitOff.map((s) => (
        <span key={s.imageIds.join(',')} className="identity-chip" data-testid="split-off-study">
          split off: <a href={`#/study/${s.imageIds[0]}`}>{s.studyDate ?? 'undated'}</a>{' '}
          <button
            type="button"
            className="link"
            data-testid={`rejoin-${s.imageIds[0]}`}
            onClick={() => {
              const [imageId] = s.imageIds;
              if (imageId !== undefined) onAction({ kind: 'rejoin', imageId, studyDate: s.studyDate, patientId: pid });
            }}
          >
            Rejoin
          </button>
        </span>
      ))}
    </div>
  );
}
