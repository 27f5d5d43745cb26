/** The stage, the rule that decided it, every measurement against its threshold, and where the numbers came from. */
import { memo, type ReactNode } from 'react';
import type { StudyDetail } from '../../../core/api/studies';
import {
  CVM_STAGES, PEAK_GROWTH, stageLabel, type Assessment, type BodyMeasurements, type Comparison, type Measurements, type ModelStaging, type StageResult,
} from '../../../core/cvm/index';
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

const pctText = (p: number): string => `${Math.round(p * 100)}%`;

/** The six stages as one bar: each segment as wide as its probability, the most probable one marked. */
function ProbabilityBar({ staging }: { staging: ModelStaging }): ReactNode {
  return (
    <div className="prob-bar" role="img" data-testid="stage-probabilities"
      aria-label={`Stage probabilities: ${CVM_STAGES.map((s, i) => `${s} ${pctText(staging.probabilities[i]!)}`).join(', ')}`}>
      {CVM_STAGES.map((s, i) => {
        const p = staging.probabilities[i]!;
        return (
          <div key={s} className={`prob-cell${s === staging.stage ? ' top' : s === staging.runnerUp ? ' second' : ''}`} data-testid={`stage-prob-${s}`}
            data-probability={p.toFixed(4)} title={`${s}: ${(p * 100).toFixed(1)}%`}>
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
      <caption className="muted small">What tipped it to {staging.stage} rather than {staging.runnerUp} (log-odds)</caption>
      <tbody>
        {shown.map((c) => (
          <tr key={c.id} data-testid={`contribution-${c.id}`} title={`${c.label}: ${fmt(c.value, 3)}`}>
            <th scope="row">{c.short}</th>
            <td className="contrib-bar">
              <span className={c.towardsStage >= 0 ? 'for' : 'against'}
                style={{ width: `${(Math.abs(c.towardsStage) / scale) * 50}%`, [c.towardsStage >= 0 ? 'left' : 'right']: '50%' }} />
            </td>
            <td className="num">{c.towardsStage >= 0 ? '+' : '−'}{fmt(Math.abs(c.towardsStage), 2)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
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
  const s = assessment.staging;
  const cls = s.confidence === 'high' ? 'good' : s.confidence === 'moderate' ? 'fair' : 'warn';
  return (
    <>
      <div className="stage-headline">
        <div className={`stage-value ${cls}`} data-testid="cvm-stage" aria-live="polite">{s.stage} <span className="stage-prob">{pctText(s.probability)}</span></div>
        <div className="stage-confidence">
          <span data-testid="stage-confidence" className={cls}>{s.confidence} confidence</span>
          <span data-testid="stage-runner-up" className="muted">runner-up {s.runnerUp} {pctText(s.runnerUpProbability)}</span>
        </div>
      </div>
      <ProbabilityBar staging={s} />
      {s.textbook.note
        ? <p className="textbook-note" data-testid="textbook-note">{s.textbook.note}</p>
        : <p className="textbook-note agrees" data-testid="textbook-note">Textbook criteria agree: {s.stage}.</p>}
      <p className="growth" data-testid="peak-growth">{s.peakGrowth.text} <span className="muted">{PEAK_GROWTH[s.stage]}</span></p>
      {s.age && (
        <p className={s.age.flag ? 'age-flag' : 'muted small'} data-testid="age-check">
          {s.age.flag ?? `Age ${s.age.ageYears.toFixed(1)} years: typical for ${s.stage} (${Number.isFinite(s.age.typical[1]) ? `${s.age.typical[0]}-${s.age.typical[1]}` : `${s.age.typical[0]}+`} years).`}
        </p>
      )}
      <Contributions staging={s} />
      <p className="note" data-testid="stage-uncertainty">{s.uncertainty.text} Model {s.model.id} {s.model.version}, fitted to clinicians' stages of 720 spines.</p>
    </>
  );
}

/** The 2018 guide's rules on these measurements: the explanation beside the model's answer. */
function TextbookResult({ result: r }: { result: StageResult }): ReactNode {
  return (
    <>
      <p className="rule" data-testid="stage-rule">
        <span data-testid="textbook-stage">{stageLabel(r)}</span>: {r.kind === 'stage' ? r.rule : r.reason}
      </p>
      {r.kind === 'stage' && r.borderline && <p className="borderline" data-testid="stage-borderline">{r.borderline.detail}</p>}
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
          <h3>Textbook criteria (McNamara &amp; Franchi 2018)</h3>
          <TextbookResult result={assessment.result} />
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
          <p className="muted small">Preset: {assessment.result.preset}. Bold rows decided the textbook stage; ≈ marks a value within the tolerance of its threshold.</p>
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
