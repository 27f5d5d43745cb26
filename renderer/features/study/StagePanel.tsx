/** The stage, the rule that decided it, every measurement against its threshold, and where the numbers came from. */
import { memo, type ReactNode } from 'react';
import type { StudyDetail } from '../../../core/api/studies';
import { PEAK_GROWTH, stageLabel, type Assessment, type BodyMeasurements, type Comparison, type Measurements } from '../../../core/cvm/index';
import { formatSpacing } from '../format';

export interface StagePanelProps {
  readonly detail: StudyDetail;
  readonly assessment: Assessment | null;
  /** The assessment when the current gesture started: values that differ from it are highlighted. */
  readonly reference: Assessment | null;
  readonly onCalibrate: () => void;
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

function StageHeadline({ assessment }: { assessment: Assessment | null }): ReactNode {
  if (!assessment) return <div className="stage-value muted" data-testid="cvm-stage">no landmarks</div>;
  if (!assessment.ok) {
    return (
      <>
        <div className="stage-value bad" data-testid="cvm-stage">not computable</div>
        <p className="rule" data-testid="stage-rule">{assessment.error.message}</p>
      </>
    );
  }
  const r = assessment.result;
  const label = stageLabel(r);
  const cls = r.kind === 'no-fit' ? 'bad' : r.borderline ? 'warn' : 'good';
  return (
    <>
      <div className={`stage-value ${cls}${label.length > 12 ? ' long' : ''}`} data-testid="cvm-stage" aria-live="polite">{label}</div>
      {r.kind === 'stage' ? (
        <>
          <p className="rule" data-testid="stage-rule">{r.rule}</p>
          {r.borderline && <p className="borderline" data-testid="stage-borderline">{r.borderline.detail}</p>}
          <p className="growth" data-testid="peak-growth">{r.peakGrowth}</p>
        </>
      ) : (
        <>
          <p className="rule" data-testid="stage-rule">{r.reason}</p>
          <p className="growth">Nearest: {r.nearest.map((s) => `${s} (${PEAK_GROWTH[s].split(':')[0]})`).join(', ')}. Check the landmarks.</p>
        </>
      )}
      {r.notes.map((n) => <p key={n} className="note">{n}</p>)}
    </>
  );
}

/** Why a faster provider was not used, and whether the crop scale was estimated (uncalibrated image). */
function RunNotes({ quality }: { quality: unknown }): ReactNode {
  const q = (quality ?? {}) as { providerFallback?: string | null; roiScale?: { estimated?: boolean; detail?: string } };
  return (
    <>
      {q.providerFallback && <><dt>Provider</dt><dd className="small muted" data-testid="provider-fallback">{q.providerFallback}</dd></>}
      {q.roiScale?.estimated && <><dt>Scale</dt><dd className="small warn-text">The model estimated the scale: {q.roiScale.detail}</dd></>}
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
      <thead><tr><th scope="col" /><th scope="col">C3</th><th scope="col">C4</th></tr></thead>
      <tbody>
        {BODY_ROWS.map(([key, label]) => (
          <tr key={key}>
            <th scope="row">{label}</th>
            {(['C3', 'C4'] as const).map((v) => {
              const value = m[v].body[key] as number;
              return <td key={v} data-testid={`body-${v}-${key}`}>{key === 'ratio' ? fmt(value) : `${fmt(value)} ${m.unit}`}</td>;
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

export const StagePanel = memo(function StagePanel({ detail, assessment, reference, onCalibrate }: StagePanelProps): ReactNode {
  const changed = changedIds(assessment, reference);
  const meta = detail.info.meta;
  const run = detail.ai?.modelRun ?? null;
  return (
    <section className="panel stage-panel" aria-label="CVM stage">
      <StageHeadline assessment={assessment} />
      {assessment?.ok && (
        <>
          <h3>Criteria</h3>
          <table className="criteria">
            <thead><tr><th scope="col">measurement</th><th scope="col">value</th><th scope="col">threshold</th></tr></thead>
            <tbody>
              {assessment.result.comparisons.map((c) => (
                <tr key={c.id} data-testid={`measurement-${c.id}`}
                  className={[c.deciding ? 'deciding' : '', c.withinTolerance ? 'near' : '', changed.has(c.id) ? 'changed' : ''].join(' ')}
                  title={c.outcome}>
                  <th scope="row">{c.label}{c.withinTolerance && <span className="near-tag" title="within the tolerance of its threshold"> ≈</span>}</th>
                  <td className="num">{comparisonValue(c)}</td>
                  <td className="num">{comparisonThreshold(c)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <BodyTable m={assessment.measurements} />
          <p className="muted small">Preset: {assessment.result.preset}. Bold rows decided the stage; ≈ marks a value within the tolerance of its threshold.</p>
        </>
      )}
      <h3>Patient and image</h3>
      <dl className="facts">
        <dt>Patient</dt><dd>{meta.patientName ?? '—'}{meta.patientId ? ` (${meta.patientId})` : ''}</dd>
        <dt>Age</dt><dd data-testid="patient-age">{meta.ageYears !== null ? `${meta.ageYears.toFixed(1)} years` : '—'}</dd>
        <dt>Sex</dt><dd data-testid="patient-sex">{meta.sex ?? '—'}</dd>
        <dt>Study date</dt><dd>{meta.studyDate ?? '—'}</dd>
        <dt>Spacing</dt>
        <dd>
          <span data-testid="spacing" className={detail.info.spacing ? '' : 'uncalibrated'}>{formatSpacing(detail.info.spacing)}</span>{' '}
          <button type="button" className="link" onClick={onCalibrate} data-testid="calibrate">{detail.info.spacing ? 'Recalibrate' : 'Calibrate'}</button>
        </dd>
        <dt>Model</dt>
        <dd data-testid="model-info">{run ? `${run.modelId} ${run.modelVersion} · ${run.provider}` : 'no AI prediction'}</dd>
        {run && <RunNotes quality={run.quality} />}
      </dl>
    </section>
  );
});
