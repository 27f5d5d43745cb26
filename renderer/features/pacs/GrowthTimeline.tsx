/**
 * A patient's growth across visits, in the study view: each visit's stage against age (chart.js), the
 * chance the pubertal peak has passed, and what successive visits say ("peak likely passed between...").
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Chart } from 'chart.js';
import type { TimelineResponse } from '../../../core/api/pacs';
import { boneAgeText } from '../../../core/boneage/index';
import '../study/boneAgeChart'; // registers the bone-age series of the growth chart
import { api } from '../../api';
import { byAge, growthChartConfig, growthSeries, SCREEN_THEME } from './growthChart';
import { IdentityBar, IdentityDialog, type IdentityAction } from './PatientIdentity';
import './pacs.css';

export function GrowthTimeline({
  imageId,
  version,
  onIdentityChange,
}: {
  imageId: number;
  version?: unknown;
  /** After a merge, split or rejoin (e.g. the PACS tab's patient list refreshes). */
  onIdentityChange?: () => void;
}): ReactNode {
  const [timeline, setTimeline] = useState<TimelineResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [action, setAction] = useState<IdentityAction | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [changes, setChanges] = useState(0);
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    let live = true;
    void api.patientTimeline({ imageId }).then((r) => {
      if (!live) return;
      if (r.ok) {
        setTimeline(r.value);
        setError(null);
      } else setError(r.error.message);
    });
    return () => {
      live = false;
    };
  }, [imageId, version, changes]);

  const visits = timeline?.visits ?? [];
  const series = useMemo(() => (timeline ? growthSeries(timeline, imageId) : []), [timeline, imageId]);
  const xByAge = timeline ? byAge(timeline) : true;
  useEffect(() => {
    if (!canvas.current || series.length === 0) return;
    const chart = new Chart(canvas.current, growthChartConfig(series, SCREEN_THEME, { byAge: xByAge }));
    return () => chart.destroy();
  }, [series, xByAge]);

  if (error)
    return (
      <section className="panel" aria-label="Growth across visits">
        <h3>Growth across visits</h3>
        <div className="error-text small">{error}</div>
      </section>
    );
  if (!timeline || !timeline.patientId) return null;
  return (
    <section className="panel growth-timeline" aria-label="Growth across visits" data-testid="growth-timeline">
      <h3>Growth across visits</h3>
      <div className="muted small">
        {timeline.patientName ?? ''} · ID {timeline.patientId}
      </div>
      <IdentityBar timeline={timeline} onAction={setAction} />
      {notice && (
        <div className="muted small" role="status" data-testid="identity-notice">
          {notice}
        </div>
      )}
      {action && (
        <IdentityDialog
          action={action}
          onClose={() => setAction(null)}
          onDone={(message) => {
            setAction(null);
            setNotice(message);
            setChanges((n) => n + 1);
            onIdentityChange?.();
          }}
        />
      )}
      {visits.length > 1 && (
        <div className="timeline-chart">
          <canvas ref={canvas} aria-label="Stage against age, one point per visit" role="img" />
        </div>
      )}
      <ol className="visits" data-testid="timeline-visits">
        {visits.map((v) => (
          <li key={v.imageId} className={v.imageId === imageId ? 'current' : ''}>
            <a href={`#/study/${v.imageId}`}>{v.studyDate ?? 'undated'}</a>
            <span className="num">{v.ageYears !== null ? `${v.ageYears.toFixed(1)} y` : '—'}</span>
            <span>{v.stageLabel ?? (v.boneAge ? `bone age ${boneAgeText(v.boneAge)}` : 'not analysed')}</span>
            <span className="muted small">{v.reviewStatus}</span>
            {timeline.splitFrom ? (
              <span />
            ) : (
              <button
                type="button"
                className="link small"
                data-testid={`split-study-${v.imageId}`}
                title="This study is of another person: take it off this patient's timeline"
                aria-label={`Not this patient: split the study of ${v.studyDate ?? 'unknown date'} off`}
                onClick={() =>
                  setAction({
                    kind: 'split-study',
                    imageId: v.imageId,
                    studyDate: v.studyDate,
                    patientId: timeline.patientId ?? '',
                  })
                }
              >
                Split off
              </button>
            )}
          </li>
        ))}
      </ol>
      {timeline.peak && (
        <div className="peak" data-testid="timeline-peak">
          {timeline.peak.text}
        </div>
      )}
      {timeline.inconsistencies.map((i) => (
        <div key={i} className="warn-text small">
          {i}
        </div>
      ))}
      {timeline.otherIssuers.length > 0 && (
        <div className="muted small">
          The same ID from other issuers ({timeline.otherIssuers.join(', ')}) is another patient.
        </div>
      )}
    </section>
  );
}
