/**
 * The PACS tab: the connection (URL, authentication, CA file, automatic sending) with a test, a study search
 * on the server (patient ID or name, date range, modality; paged), and the pull of chosen studies into the
 * local store with progress and cancel. Everything already pulled keeps working offline.
 */
import { memo, useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type {
  PacsPullDone,
  PacsPullProgress,
  PacsSettingsView,
  PacsStudyRow,
  PacsTestResult,
} from '../../../core/api/pacs';
import { nextPageSize } from '../../../core/api/pacs';
import { api } from '../../api';
import { LocalPatients } from './LocalPatients';
import './pacs.css';

/** DICOM person name "Family^Given^Middle" as "Family, Given Middle". */
const personName = (pn: string): string => {
  const [alphabetic = ''] = pn.split('='); // the alphabetic group, before any ideographic one
  const [family = '', ...rest] = alphabetic.split('^');
  const given = rest.filter(Boolean).join(' ');
  return given ? `${family}, ${given}` : family;
};

interface Form {
  url: string;
  authKind: 'none' | 'basic' | 'bearer';
  username: string;
  secret: string;
  caFile: string;
  timeoutS: string;
  autoSendApproved: boolean;
}

const formOf = (s: PacsSettingsView): Form => ({
  url: s.url,
  authKind: s.authKind,
  username: s.username,
  secret: '',
  caFile: s.caFile ?? '',
  timeoutS: String(s.timeoutMs / 1000),
  autoSendApproved: s.autoSendApproved,
});

function ConnectionForm({ onSaved }: { onSaved: (s: PacsSettingsView) => void }): ReactNode {
  const [saved, setSaved] = useState<PacsSettingsView | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [status, setStatus] = useState<{ kind: 'ok' | 'error' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void api.pacsGetSettings({}).then((r) => {
      if (r.ok) {
        setSaved(r.value);
        setForm(formOf(r.value));
        onSaved(r.value);
      }
    });
  }, [onSaved]);

  if (!form || !saved) return null;
  const set = <K extends keyof Form>(k: K, v: Form[K]): void => setForm({ ...form, [k]: v });

  const save = async (): Promise<boolean> => {
    const timeoutMs = Math.round(Number(form.timeoutS.replace(',', '.')) * 1000);
    const r = await api.pacsSetSettings({
      url: form.url.trim(),
      authKind: form.authKind,
      username: form.username.trim(),
      caFile: form.caFile.trim() || null,
      timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : 30_000,
      autoSendApproved: form.autoSendApproved,
      ...(form.secret ? { secret: form.secret } : {}),
    });
    if (!r.ok) {
      setStatus({ kind: 'error', text: r.error.message });
      return false;
    }
    setSaved(r.value);
    setForm({ ...formOf(r.value) });
    onSaved(r.value);
    return true;
  };

  const test = async (): Promise<void> => {
    setBusy(true);
    setStatus({ kind: 'info', text: 'Testing…' });
    try {
      if (!(await save())) return;
      const r = await api.pacsTestConnection({});
      if (!r.ok) {
        setStatus({ kind: 'error', text: r.error.message });
        return;
      }
      const t: PacsTestResult = r.value;
      setStatus(
        t.ok
          ? { kind: 'ok', text: `Connected: ${t.url} answers DICOMweb queries (${t.ms} ms).` }
          : { kind: 'error', text: `${t.kind}: ${t.message}` },
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="pacs-connection"
      onSubmit={(e) => {
        e.preventDefault();
        void test();
      }}
      aria-label="PACS connection"
    >
      <label>
        DICOMweb URL
        <input
          type="url"
          placeholder="https://pacs.clinic.local/dicom-web"
          value={form.url}
          onChange={(e) => set('url', e.target.value)}
          data-testid="pacs-url"
          size={42}
        />
      </label>
      <label>
        Sign-in
        <select
          value={form.authKind}
          onChange={(e) => set('authKind', e.target.value as Form['authKind'])}
          data-testid="pacs-auth"
        >
          <option value="none">none</option>
          <option value="basic">user name and password</option>
          <option value="bearer">bearer token</option>
        </select>
      </label>
      {form.authKind === 'basic' && (
        <label>
          User
          <input
            value={form.username}
            onChange={(e) => set('username', e.target.value)}
            data-testid="pacs-user"
            autoComplete="username"
          />
        </label>
      )}
      {form.authKind !== 'none' && (
        <label>
          {form.authKind === 'basic' ? 'Password' : 'Token'}
          <input
            type="password"
            value={form.secret}
            placeholder={saved.hasSecret ? '(stored; type to replace)' : ''}
            autoComplete="current-password"
            onChange={(e) => set('secret', e.target.value)}
            data-testid="pacs-secret"
            title={`The ${form.authKind === 'basic' ? 'password' : 'token'} is ${saved.secretStorage}.`}
          />
        </label>
      )}
      <label title="A PEM file with the certificate authority of the server, when it is not one the system trusts">
        CA file
        <input
          value={form.caFile}
          placeholder="system certificates"
          onChange={(e) => set('caFile', e.target.value)}
          data-testid="pacs-ca"
        />
      </label>
      <label>
        Timeout (s)
        <input
          className="narrow"
          inputMode="decimal"
          value={form.timeoutS}
          onChange={(e) => set('timeoutS', e.target.value)}
        />
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={form.autoSendApproved}
          onChange={(e) => set('autoSendApproved', e.target.checked)}
          data-testid="pacs-autosend"
        />
        send approved results automatically
      </label>
      <button type="submit" className="primary" disabled={busy} data-testid="pacs-test">
        Save and test
      </button>
      {status && (
        <div
          className={`pacs-status ${status.kind}`}
          role={status.kind === 'error' ? 'alert' : 'status'}
          data-testid="pacs-test-result"
        >
          {status.text}
        </div>
      )}
    </form>
  );
}

/** The height of a study row (CSS: .pacs-tab table.studies tbody tr), for drawing only the rows in view. */
const ROW_HEIGHT = 28;
const OVERSCAN = 12;

/** One study of the search: memoised, so a new page or a click re-draws only the rows that changed. */
const StudyRow = memo(function StudyRow({
  row: r,
  index,
  selected,
  onToggle,
}: {
  readonly row: PacsStudyRow;
  readonly index: number;
  readonly selected: boolean;
  readonly onToggle: (uid: string) => void;
}): ReactNode {
  return (
    <tr
      data-testid={`pacs-row-${r.studyInstanceUid}`}
      aria-rowindex={index + 2}
      onClick={() => onToggle(r.studyInstanceUid)}
    >
      <td>
        <input
          type="checkbox"
          checked={selected}
          onChange={() => onToggle(r.studyInstanceUid)}
          onClick={(e) => e.stopPropagation()}
          aria-label={`Select study ${r.studyDate ?? ''}`}
        />
      </td>
      <td>{r.patientName ? personName(r.patientName) : '—'}</td>
      <td>
        {r.patientId ?? '—'}
        {r.issuerOfPatientId ? <span className="muted small"> ({r.issuerOfPatientId})</span> : null}
      </td>
      <td className="num">{r.birthDate ?? '—'}</td>
      <td className="num">{r.studyDate ?? '—'}</td>
      <td>{r.modalities.join(', ')}</td>
      <td className="num">{r.instances ?? '?'}</td>
      <td className="num">{r.localInstances > 0 ? r.localInstances : ''}</td>
      <td className="muted">{r.description ?? ''}</td>
    </tr>
  );
});

export function PacsTab({ onOpen }: { onOpen: (imageId: number) => void }): ReactNode {
  const [configured, setConfigured] = useState(false);
  const [query, setQuery] = useState({ patientId: '', patientName: '', from: '', to: '', modality: '' });
  const [rows, setRows] = useState<PacsStudyRow[]>([]);
  const [more, setMore] = useState(false);
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [pull, setPull] = useState<PacsPullProgress | null>(null);
  const [done, setDone] = useState<PacsPullDone | null>(null);
  const [searchMs, setSearchMs] = useState<number | null>(null);
  const [pulledAt, setPulledAt] = useState(0);

  const onSaved = useCallback((s: PacsSettingsView) => setConfigured(s.url !== ''), []);

  const search = async (offset: number): Promise<void> => {
    setSearching(true);
    setError(null);
    const request = {
      offset,
      limit: nextPageSize(offset),
      ...(query.patientId.trim() ? { patientId: query.patientId.trim() } : {}),
      ...(query.patientName.trim() ? { patientName: query.patientName.trim() } : {}),
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
      ...(query.modality.trim() ? { modality: query.modality.trim().toUpperCase() } : {}),
    };
    const r = await api.pacsSearch(request);
    setSearching(false);
    if (!r.ok) {
      setError(r.error.message);
      return;
    }
    setRows((prev) => (offset === 0 ? [...r.value.rows] : [...prev, ...r.value.rows]));
    setMore(r.value.more);
    setSearchMs(r.value.ms);
    if (offset === 0) setSelected(new Set());
  };

  useEffect(() => {
    const offP = api.onEvent('pacsPullProgress', (p) => setPull(p));
    const offD = api.onEvent('pacsPullDone', (d) => {
      setPull(null);
      setDone(d);
      setPulledAt(Date.now());
    });
    return () => {
      offP();
      offD();
    };
  }, []);

  // After a pull, refresh the listed rows so "Here" shows what is now stored locally.
  useEffect(() => {
    if (pulledAt && rows.length > 0) void search(0);
    // Only a new pull refreshes the rows; `search` and `rows` change with every search.
  }, [pulledAt]);

  const startPull = async (): Promise<void> => {
    setDone(null);
    const r = await api.pacsPull({ studyUids: [...selected] });
    if (!r.ok) {
      setError(r.error.message);
      return;
    }
    setPull({ pullId: r.value.pullId, done: 0, total: 0, bytes: 0, current: null });
  };

  const toggle = useCallback((uid: string): void => {
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(uid)) next.delete(uid);
      else next.add(uid);
      return next;
    });
  }, []);

  // Only the rows in view (and a few around) are in the page: 2,000 listed studies stay as quick as 20.
  const wrap = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(800);
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setViewHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + viewHeight) / ROW_HEIGHT) + OVERSCAN);

  return (
    <div className="pacs-tab" data-testid="pacs-tab">
      <ConnectionForm onSaved={onSaved} />
      <form
        className="worklist-bar pacs-search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void search(0);
        }}
      >
        <input
          placeholder="Patient ID"
          value={query.patientId}
          onChange={(e) => setQuery({ ...query, patientId: e.target.value })}
          data-testid="pacs-patient-id"
          aria-label="Patient ID"
        />
        <input
          placeholder="Patient name"
          value={query.patientName}
          onChange={(e) => setQuery({ ...query, patientName: e.target.value })}
          aria-label="Patient name"
        />
        <label className="inline">
          from
          <input
            type="date"
            value={query.from}
            onChange={(e) => setQuery({ ...query, from: e.target.value })}
            aria-label="Study date from"
          />
        </label>
        <label className="inline">
          to
          <input
            type="date"
            value={query.to}
            onChange={(e) => setQuery({ ...query, to: e.target.value })}
            aria-label="Study date to"
          />
        </label>
        <input
          className="narrow"
          placeholder="Modality"
          value={query.modality}
          onChange={(e) => setQuery({ ...query, modality: e.target.value })}
          aria-label="Modality"
        />
        <button type="submit" disabled={!configured || searching} data-testid="pacs-search">
          {searching ? 'Searching…' : 'Search the PACS'}
        </button>
        <span className="spacer" />
        <button
          type="button"
          className="primary"
          disabled={selected.size === 0 || pull !== null}
          onClick={() => void startPull()}
          data-testid="pacs-pull"
        >
          Pull {selected.size || ''} selected
        </button>
      </form>
      {!configured && (
        <div className="message">
          Set the DICOMweb URL of the clinic's PACS above to search it. Studies already pulled stay available offline in
          the worklist.
        </div>
      )}
      {pull && (
        <div className="progress" role="status" data-testid="pacs-pull-progress">
          <progress max={Math.max(1, pull.total)} value={pull.done} aria-label="Pull progress" />
          <span>
            Retrieving {pull.total ? `${Math.min(pull.done + 1, pull.total)} of ${pull.total}` : '…'} ·{' '}
            {(pull.bytes / 1e6).toFixed(1)} MB
          </span>
          <button
            type="button"
            onClick={() => void api.pacsCancelPull({ pullId: pull.pullId })}
            data-testid="pacs-pull-cancel"
          >
            Cancel
          </button>
        </div>
      )}
      {done && (
        <div className={done.failed ? 'warning' : 'message'} role="status" data-testid="pacs-pull-done">
          {done.cancelled ? 'Pull cancelled: ' : 'Pull finished: '}
          {done.retrieved} retrieved, {done.alreadyPresent} already here, {done.skipped} skipped, {done.failed} failed.
          {done.boneAge && done.boneAge.length > 0
            ? ` ${done.boneAge.length} hand-wrist ${done.boneAge.length === 1 ? 'radiograph goes' : 'radiographs go'} to bone age.`
            : ''}
          {done.imageIds.length > 0 && (
            <>
              {' '}
              <button
                type="button"
                className="link"
                onClick={() => done.imageIds[0] !== undefined && onOpen(done.imageIds[0])}
                data-testid="pacs-open-pulled"
              >
                Open
              </button>
            </>
          )}
          {done.problems.length > 0 && (
            <ul className="problems small">
              {done.problems.slice(0, 8).map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {error && (
        <div className="error" role="alert" data-testid="pacs-error">
          {error}
        </div>
      )}
      <div className="table-wrap" ref={wrap} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <table className="studies" data-testid="pacs-results" data-rows={rows.length} aria-rowcount={rows.length + 1}>
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={rows.length > 0 && selected.size === rows.length}
                  onChange={(e) =>
                    setSelected(e.target.checked ? new Set(rows.map((r) => r.studyInstanceUid)) : new Set())
                  }
                />
              </th>
              <th scope="col">Patient</th>
              <th scope="col">ID</th>
              <th scope="col">Born</th>
              <th scope="col">Study date</th>
              <th scope="col">Modality</th>
              <th scope="col">Images</th>
              <th scope="col">Here</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {first > 0 && <tr aria-hidden="true" style={{ height: first * ROW_HEIGHT }} />}
            {rows.slice(first, last).map((r, i) => (
              <StudyRow
                key={r.studyInstanceUid}
                row={r}
                index={first + i}
                selected={selected.has(r.studyInstanceUid)}
                onToggle={toggle}
              />
            ))}
            {last < rows.length && <tr aria-hidden="true" style={{ height: (rows.length - last) * ROW_HEIGHT }} />}
          </tbody>
        </table>
        {rows.length === 0 && configured && !searching && (
          <div className="empty">Search the PACS by patient, date or modality.</div>
        )}
      </div>
      <div className="pager">
        <span data-testid="pacs-count">
          {rows.length} stud{rows.length === 1 ? 'y' : 'ies'}
          {searchMs !== null ? ` · last page ${searchMs} ms` : ''}
        </span>
        {more && (
          <button type="button" onClick={() => void search(rows.length)} disabled={searching}>
            Load more
          </button>
        )}
      </div>
      <LocalPatients />
    </div>
  );
}
