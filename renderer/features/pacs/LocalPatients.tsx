/**
 * The patients in this workstation, in the PACS tab: search by ID or name, see who is merged into whom, and
 * open a patient's growth timeline, where the same merge, split and rejoin as in the study view fix IDs that
 * disagree (each confirmed in a dialog, audit-logged and reversible). Works offline: it lists the local store.
 */
import { useState, type ReactNode } from 'react';
import type { PatientListItem } from '../../../core/api/pacs';
import { GrowthTimeline } from './GrowthTimeline';
import { displayName, usePatientSearch } from './PatientIdentity';
import './pacs.css';

export function LocalPatients(): ReactNode {
  const [search, setSearch] = useState('');
  const [open, setOpen] = useState<PatientListItem | null>(null);
  const [changes, setChanges] = useState(0);
  const { rows, error } = usePatientSearch(search, 100, changes);

  return (
    <details className="local-patients" data-testid="local-patients">
      <summary data-testid="local-patients-open">Patients in this workstation: timelines, merge and split</summary>
      <p className="muted small">
        When two patient IDs are one person, or a study is filed under the wrong ID, open the patient’s timeline: “Same
        person as…” merges, “Split off” separates, and each can be undone.
      </p>
      <input
        type="search"
        placeholder="Patient ID or name"
        aria-label="Search the patients in this workstation"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
        data-testid="patients-search"
      />
      {error && <div className="error-text small">{error}</div>}
      <table className="worklist patient-list">
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">Patient</th>
            <th scope="col">Born</th>
            <th scope="col">Studies</th>
            <th scope="col">Merged into</th>
            <th scope="col">
              <span className="visually-hidden">Timeline</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows?.map((p) => (
            <tr
              key={p.patientId}
              data-testid={`patient-${p.patientId}`}
              className={open?.patientId === p.patientId ? 'selected' : ''}
            >
              <td>{p.patientId}</td>
              <td>{displayName(p.name)}</td>
              <td className="num">{p.birthDate ?? '—'}</td>
              <td className="num">{p.studies}</td>
              <td data-testid="merged-into">{p.mergedInto ?? ''}</td>
              <td>
                <button
                  type="button"
                  className="link"
                  disabled={p.imageId === null || p.imageId === undefined}
                  onClick={() => setOpen(open?.patientId === p.patientId ? null : p)}
                  data-testid={`patient-timeline-${p.patientId}`}
                  aria-expanded={open?.patientId === p.patientId}
                >
                  {open?.patientId === p.patientId ? 'Close' : 'Timeline, merge, split'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows?.length === 0 && <div className="empty">No patient matches.</div>}
      {open?.imageId !== null && open?.imageId !== undefined && (
        <GrowthTimeline imageId={open.imageId} onIdentityChange={() => setChanges((n) => n + 1)} />
      )}
    </details>
  );
}
