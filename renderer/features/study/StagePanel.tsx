/** The stage, the rule that decided it, every measurement against its threshold, and where the numbers came from. */
import { memo, useState, type ReactNode } from 'react';
import type { Plausibility } from '../../../core/review/plausibility';
import type { StudyDetail } from '../../../core/api/studies';
import {
  stageAt,
  PEAK_GROWTH,
  stageLabel,
  type Assessment,
  type BodyMeasurements,
  type Comparison,
  type Measurements,
  type ModelStaging,
  type StageResult,
} from '../../../core/cvm/index';
import { formatAge, formatProvider, formatSpacing, humanizeIds } from '../format';

export interface StagePanelProps {
  readonly detail: StudyDetail;
  readonly assessment: Assessment | null;
  /** The assessment when the current gesture started: values that differ from it are highlighted. */
  readonly reference: Assessment | null;
  /** The anatomical check of the current landmarks (recomputed on every move of a drag). */
  readonly plausibility: Plausibility | null;
  readonly onCalibrate: () => void;
  readonly onPatientInfo: (info: { ageYears?: number | null; sex?: 'M' | 'F' | 'O' | null }) => Promise<string | null>;
}

export function labelsOf(assessment: Assessment | null): Map<string, string> {
  return new Map(assessment?.ok ? assessment.result.comparisons.map((c) => [c.id, c.label]) : []);
}

const fmt = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');

function comparisonValue(c: Comparison): string {
  if (c.unit === '%') return `${fmt(c.value, 1)}%`;
  if (c.unit === 'ratio') return fmt(c.value, 2);
  return `${fmt(c.value, 2)} ${c.unit}`;
}

function comparisonThreshold(c: Comparison): string {
  if (c.unit === '%') return `${fmt(c.threshold, 1)}%`;
  if (c.unit === 'ratio') return fmt(c.threshold, 2);
  return `${fmt(c.threshold, 2)} ${c.unit}`;
}

function changedIds(now: Assessment | null, before: Assessment | null): Set<string> {
  const changed = new Set<string>();
  if (!now?.ok || !before?.ok) return changed;
  const old = new Map(before.result.comparisons.map((c) => [c.id, c.value]));
  for (const c of now.result.comparisons) {
    const v = old.get(c.id);
    if (v === undefined || Math.abs(v - c.value) > 1e-9) changed.add(c.id);
  }
  return changed;
}

const pctText = (p: number): string => `${Math.round(p * 100)}%`;

/** The six stages as one bar: each segment as wide as its probability, the most probable one marked. */
function ProbabilityBar({ staging }: { staging: ModelStaging }): ReactNode {
  const cells = staging.probabilities.map((p, i) => ({ s: stageAt(i), p }));
  return (
    <div
      className="prob-bar"
      role="img"
      data-testid="stage-probabilities"
      aria-label={`Stage probabilities: ${cells.map(({ s, p }) => `${s} ${pctText(p)}`).join(', ')}`}
    >
      {cells.map(({ s, p }) => {
        return (
          <div
            key={s}
            className={`prob-cell${s === staging.stage ? ' top' : s === staging.runnerUp ? ' second' : ''}`}
            data-testid={`stage-prob-${s}`}
            data-probability={p.toFixed(4)}
            title={`${s}: ${(p * 100).toFixed(1)}%`}
          >
            <div className="prob-fill" style={{ height: `${Math.max(2, p * 100)}%` }} />
            <span className="prob-stage">{s}</span>
            <span className="prob-value">{pctText(p)}</span>
          </div>
        );
      })}
    </div>
  );
}

/** What each measurement adds to the log-odds of the stage over the runner-up (the largest effects). */
function Contributions({ staging }: { staging: ModelStaging }): ReactNode {
  const shown = staging.contributions.slice(0, 6);
  const scale = Math.max(0.5, ...shown.map((c) => Math.abs(c.towardsStage)));
  return (
    <table className="contributions" data-testid="stage-contributions">
      <caption className="muted small">
        What tipped it to {staging.stage} rather than {staging.runnerUp} (log-odds)
      </caption>
      <tbody>
        {shown.map((c) => (
          <tr key={c.id} data-testid={`contribution-${c.id}`} title={`${c.label}: ${fmt(c.value, 3)}`}>
            <th scope="row">{c.short}</th>
            <td className="contrib-bar">
              <div className="contrib-track">
                <span
                  className={c.towardsStage >= 0 ? 'for' : 'against'}
                  style={{
                    width: `${(Math.abs(c.towardsStage) / scale) * 50}%`,
                    [c.towardsStage >= 0 ? 'left' : 'right']: '50%',
                  }}
                />
              </div>
            </td>
            <td className="num">
              {c.towardsStage >= 0 ? '+' : '−'}
              {fmt(Math.abs(c.towardsStage), 2)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function StageHeadline({
  assessment,
  plausibility,
}: {
  assessment: Assessment | null;
  plausibility: Plausibility | null;
}): ReactNode {
  if (!assessment)
    return (
      <div className="stage-value muted" data-testid="cvm-stage">
        no landmarks
      </div>
    );
  if (!assessment.ok) {
    return (
      <>
        <div className="stage-value bad" data-testid="cvm-stage">
          not computable
        </div>
        <p className="rule error-text" data-testid="stage-rule">
          {assessment.error.message}
        </p>
      </>
    );
  }
  const s = assessment.staging;
  const implausible = plausibility?.verdict === 'implausible';
  const cls = implausible
    ? 'bad'
    : plausibility?.verdict === 'check'
      ? 'warn'
      : s.confidence === 'high'
        ? 'good'
        : s.confidence === 'moderate'
          ? 'fair'
          : 'warn';
  return (
    <>
      <div className="stage-headline">
        <div className={`stage-value ${cls}`} data-testid="cvm-stage" aria-live="polite">
          {s.stage} <span className="stage-prob">{pctText(s.probability)}</span>
        </div>
        <div className="stage-confidence">
          <span
            data-testid="stage-confidence"
            className={s.confidence === 'high' ? 'good' : s.confidence === 'moderate' ? 'fair' : 'warn'}
          >
            {s.confidence} confidence
          </span>
          <span data-testid="stage-runner-up" className="muted">
            runner-up {s.runnerUp} {pctText(s.runnerUpProbability)}
          </span>
        </div>
      </div>
      {implausible && (
        <p className="error-text small" data-testid="stage-implausible">
          Not valid: the landmarks are anatomically impossible (see above).
        </p>
      )}
      <ProbabilityBar staging={s} />
      {s.textbook.note ? (
        <p className="textbook-note" data-testid="textbook-note">
          {s.textbook.note}
        </p>
      ) : (
        <p className="textbook-note agrees" data-testid="textbook-note">
          Textbook criteria agree: {s.stage}.
        </p>
      )}
      <p className="growth" data-testid="peak-growth">
        {s.peakGrowth.text} <span className="muted">{PEAK_GROWTH[s.stage]}</span>
      </p>
      {s.age && (
        <p className={s.age.flag ? 'age-flag' : 'muted small'} data-testid="age-check">
          {s.age.flag ??
            `Age ${formatAge(s.age.ageYears)}: typical for ${s.stage} (${Number.isFinite(s.age.typical[1]) ? `${s.age.typical[0]}-${s.age.typical[1]}` : `${s.age.typical[0]}+`} years).`}
        </p>
      )}
      <Contributions staging={s} />
      <p className="note" data-testid="stage-uncertainty">
        {s.uncertainty.text} Model {s.model.id} {s.model.version}, fitted to clinicians' stages of 720 spines.
      </p>
    </>
  );
}

/** The 2018 guide's rules on these measurements: the explanation beside the model's answer. */
function TextbookResult({ result: r, labels }: { result: StageResult; labels: Map<string, string> }): ReactNode {
  return (
    <>
      <p className="rule" data-testid="stage-rule">
        <span data-testid="textbook-stage">{stageLabel(r)}</span>:{' '}
        {humanizeIds(r.kind === 'stage' ? r.rule : r.reason, labels)}
      </p>
      {r.kind === 'stage' && r.borderline && (
        <p className="borderline" data-testid="stage-borderline">
          {humanizeIds(r.borderline.detail, labels)}
        </p>
      )}
      {r.notes.map((n) => (
        <p key={n} className="note">
          {humanizeIds(n, labels)}
        </p>
      ))}
    </>
  );
}

/** Why a faster provider was not used, and whether the crop scale was estimated (uncalibrated image). */
function RunNotes({ quality }: { quality: unknown }): ReactNode {
  const q = (quality ?? {}) as {
    providerFallback?: string | null;
    roiScale?: { estimated?: boolean; detail?: string };
  };
  return (
    <>
      {q.providerFallback && (
        <>
          <dt>Why CPU</dt>
          <dd className="small">
            <details data-testid="provider-fallback">
              <summary>details</summary>
              <span className="muted break">{q.providerFallback}</span>
            </details>
          </dd>
        </>
      )}
      {q.roiScale?.estimated && (
        <>
          <dt>Scale</dt>
          <dd className="small warn-text">
            <details>
              <summary>estimated by the model</summary>
              <span className="break">{q.roiScale.detail}</span>
            </details>
          </dd>
        </>
      )}
    </>
  );
}

/** Age and sex: shown from the file, or entered here (audited) when the file has none. */
/** One part of the entered age: a small numeric field labelled with its unit (test id `age-<unit>`). */
function AgeField(props: {
  readonly unit: 'years' | 'months';
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly autoFocus?: boolean;
}): ReactNode {
  return (
    <label>
      {props.unit}{' '}
      <input
        className="tiny"
        inputMode="numeric"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        data-testid={`age-${props.unit}`}
        autoFocus={props.autoFocus}
      />
    </label>
  );
}

function PatientFacts({
  detail,
  onPatientInfo,
}: {
  detail: StudyDetail;
  onPatientInfo: StagePanelProps['onPatientInfo'];
}): ReactNode {
  const meta = detail.info.meta;
  const [editing, setEditing] = useState(false);
  const [years, setYears] = useState('');
  const [months, setMonths] = useState('');
  const [sex, setSex] = useState<string>(meta.sex ?? '');
  const [error, setError] = useState<string | null>(null);
  const fileHasAge = detail.info.format === 'dicom' && meta.ageYears !== null;
  const save = async (): Promise<void> => {
    const info: { ageYears?: number | null; sex?: 'M' | 'F' | 'O' | null } = {};
    if (years.trim() || months.trim()) {
      const y = Number(years || '0');
      const m = Number(months || '0');
      if (!Number.isInteger(y) || !Number.isInteger(m) || y < 0 || y > 120 || m < 0 || m > 11) {
        setError('Enter whole years (0-120) and months (0-11).');
        return;
      }
      info.ageYears = y + m / 12;
    }
    if (sex) info.sex = sex as 'M' | 'F' | 'O';
    const err = await onPatientInfo(info);
    setError(err);
    if (!err) setEditing(false);
  };
  return (
    <>
      <dt>Age</dt>
      <dd data-testid="patient-age">{formatAge(meta.ageYears)}</dd>
      <dt>Sex</dt>
      <dd data-testid="patient-sex">{meta.sex ?? '—'}</dd>
      {(meta.ageYears === null || meta.sex === null || (!fileHasAge && meta.ageYears !== null)) && !editing && (
        <>
          <dt />
          <dd>
            <button type="button" className="link small" onClick={() => setEditing(true)} data-testid="enter-patient">
              {meta.ageYears === null || meta.sex === null ? 'enter age and sex' : 'correct the entered age'}
            </button>
          </dd>
        </>
      )}
      {editing && (
        <>
          <dt />
          <dd>
            <form
              className="patient-form"
              onSubmit={(e) => {
                e.preventDefault();
                void save();
              }}
            >
              <AgeField unit="years" value={years} onChange={setYears} autoFocus />
              <AgeField unit="months" value={months} onChange={setMonths} />
              <label>
                sex{' '}
                <select
                  value={sex}
                  onChange={(e) => setSex(e.target.value)}
                  disabled={detail.info.meta.sex !== null && detail.info.format === 'dicom'}
                  data-testid="sex-select"
                >
                  <option value="">—</option>
                  <option value="F">F</option>
                  <option value="M">M</option>
                  <option value="O">other</option>
                </select>
              </label>
              <button type="submit" data-testid="save-patient">
                Save
              </button>
              <button type="button" onClick={() => setEditing(false)}>
                Cancel
              </button>
              {error && (
                <p className="error-text small" role="alert">
                  {error}
                </p>
              )}
            </form>
          </dd>
        </>
      )}
    </>
  );
}

const BODY_ROWS: readonly [keyof BodyMeasurements, string][] = [
  ['anteriorHeight', 'anterior height'],
  ['posteriorHeight', 'posterior height'],
  ['superiorWidth', 'superior width'],
  ['inferiorWidth', 'inferior width'],
  ['ratio', 'width / height'],
];

function BodyTable({ m }: { m: Measurements }): ReactNode {
  return (
    <table className="body-table">
      <thead>
        <tr>
          <th scope="col" />
          <th scope="col">C3</th>
          <th scope="col">C4</th>
        </tr>
      </thead>
      <tbody>
        {BODY_ROWS.map(([key, label]) => (
          <tr key={key}>
            <th scope="row">{label}</th>
            {(['C3', 'C4'] as const).map((v) => {
              const value = m[v].body[key] as number;
              return (
                <td key={v} data-testid={`body-${v}-${key}`}>
                  {key === 'ratio' ? fmt(value) : `${fmt(value)} ${m.unit}`}
                </td>
              );
            })}
          </tr>
        ))}
        <tr>
          <th scope="row">shape</th>
          <td data-testid="body-C3-shape">{m.C3.body.shape.replace('-', ' ')}</td>
          <td data-testid="body-C4-shape">{m.C4.body.shape.replace('-', ' ')}</td>
        </tr>
      </tbody>
    </table>
  );
}

export const StagePanel = memo(function StagePanel({
  detail,
  assessment,
  reference,
  plausibility,
  onCalibrate,
  onPatientInfo,
}: StagePanelProps): ReactNode {
  const changed = changedIds(assessment, reference);
  const meta = detail.info.meta;
  const run = detail.ai?.modelRun ?? null;
  return (
    <section className="panel stage-panel" aria-label="CVM stage">
      {plausibility && plausibility.verdict !== 'ok' && (
        <div
          className={`notice compact ${plausibility.verdict === 'implausible' ? 'error' : 'warning'}`}
          data-testid="plausibility"
          data-kind={plausibility.verdict}
          role="status"
        >
          <strong>{plausibility.verdict === 'implausible' ? 'Anatomically impossible:' : 'Unusual:'}</strong>
          <ul>
            {plausibility.problems.map((p) => (
              <li key={p.message}>{p.message}</li>
            ))}
          </ul>
        </div>
      )}
      <StageHeadline assessment={assessment} plausibility={plausibility} />
      {assessment?.ok && (
        <>
          <h3>Textbook criteria (McNamara &amp; Franchi 2018)</h3>
          <TextbookResult result={assessment.result} labels={labelsOf(assessment)} />
          <table className="criteria">
            <thead>
              <tr>
                <th scope="col">measurement</th>
                <th scope="col">value</th>
                <th scope="col">threshold</th>
              </tr>
            </thead>
            <tbody>
              {assessment.result.comparisons.map((c) => (
                <tr
                  key={c.id}
                  data-testid={`measurement-${c.id}`}
                  className={[
                    c.deciding ? 'deciding' : '',
                    c.withinTolerance ? 'near' : '',
                    changed.has(c.id) ? 'changed' : '',
                  ].join(' ')}
                  title={humanizeIds(c.outcome, labelsOf(assessment))}
                >
                  <th scope="row">
                    {c.label}
                    {c.withinTolerance && (
                      <span className="near-tag" title="within the tolerance of its threshold">
                        {' '}
                        ≈
                      </span>
                    )}
                  </th>
                  <td className="num">{comparisonValue(c)}</td>
                  <td className="num">{comparisonThreshold(c)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <BodyTable m={assessment.measurements} />
          <p className="muted small">
            Preset: {assessment.result.preset}. <strong>Bold</strong> rows decided the textbook stage; ≈ marks a value
            within the tolerance of its threshold.
          </p>
        </>
      )}
      <h3>Patient and image</h3>
      <dl className="facts">
        <dt>Patient</dt>
        <dd className="cut" title={`${meta.patientName ?? '—'}${meta.patientId ? ` (${meta.patientId})` : ''}`}>
          {meta.patientName ?? '—'}
          {meta.patientId ? ` (${meta.patientId})` : ''}
        </dd>
        <PatientFacts detail={detail} onPatientInfo={onPatientInfo} />
        <dt>Study date</dt>
        <dd>{meta.studyDate ?? '—'}</dd>
        <dt>Spacing</dt>
        <dd>
          <span data-testid="spacing" className={detail.info.spacing ? '' : 'uncalibrated'}>
            {formatSpacing(detail.info.spacing)}
          </span>{' '}
          <button type="button" className="link" onClick={onCalibrate} data-testid="calibrate">
            {detail.info.spacing ? 'Recalibrate' : 'Calibrate'}
          </button>
        </dd>
        <dt>Model</dt>
        <dd data-testid="model-info">
          {run
            ? `${run.modelId} ${run.modelVersion} · ${formatProvider(run.provider, (run.quality as { providerFallback?: string | null } | null)?.providerFallback)}`
            : 'no AI prediction'}
        </dd>
        {run && <RunNotes quality={run.quality} />}
      </dl>
    </section>
  );
});
