/**
 * A patient's growth across visits, in the study view: each visit's stage against age (chart.js), the
 * chance the pubertal peak has passed, and what successive visits say ("peak likely passed between...").
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';
import type { TimelineResponse } from '../../../core/api/pacs';
import { boneAgeSeries, boneAgeText } from '../../../core/boneage/index';
import { BONE_AGE_AXIS, boneAgeDatasets, boneAgeScale } from '../study/boneAgeChart';
import { api } from '../../api';
import './pacs.css';

Chart.register(
  LineController,
  ScatterController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Tooltip,
  Legend,
);

const STAGE_NUMBER: Record<string, number> = { CS1: 1, CS2: 2, CS3: 3, CS4: 4, CS5: 5, CS6: 6 };

/** x of a visit: age in years, else years since the first dated visit. */
function xOf(v: TimelineResponse['visits'][number], first: number | null): number | null {
  if (v.ageYears !== null) return v.ageYears;
  if (v.studyDate && first !== null) return (Date.parse(v.studyDate) - first) / (365.25 * 86_400_000);
  return null;
}

export function GrowthTimeline({ imageId, version }: { imageId: number; version?: unknown }): ReactNode {
  const [timeline, setTimeline] = useState<TimelineResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
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
  }, [imageId, version]);

  const visits = timeline?.visits ?? [];
  const byAge = visits.some((v) => v.ageYears !== null);
  useEffect(() => {
    if (!canvas.current || visits.length === 0) return;
    const dated = visits.map((v) => (v.studyDate ? Date.parse(v.studyDate) : NaN)).filter((t) => Number.isFinite(t));
    const first = dated.length ? Math.min(...dated) : null;
    const points = visits.flatMap((v) => {
      const x = xOf(v, first);
      return x === null ? [] : [{ x, y: v.stage ? STAGE_NUMBER[v.stage]! : null, p: v.pPeakPassed, v }];
    });
    // bone ages of hand-wrist visits, on an axis of their own (seam: ../study/boneAgeChart.ts)
    const bone = boneAgeSeries(visits, (v) => xOf(v, first));
    const xs = [...points.map((p) => p.x), ...bone.map((b) => b.x)];
    const chart = new Chart(canvas.current, {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'CVM stage',
            data: points.map((p) => ({ x: p.x, y: p.y })),
            yAxisID: 'stage',
            borderColor: '#4da3ff',
            backgroundColor: '#4da3ff',
            pointRadius: points.map((p) => (p.v.imageId === imageId ? 6 : 4)),
            spanGaps: true,
          },
          {
            label: 'P(peak passed)',
            data: points.map((p) => ({ x: p.x, y: p.p })),
            yAxisID: 'p',
            borderColor: '#f2b544',
            backgroundColor: '#f2b544',
            borderDash: [4, 3],
            pointRadius: 3,
            spanGaps: true,
          },
          ...boneAgeDatasets(bone, imageId, byAge),
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: {
            type: 'linear',
            min: Math.floor(Math.min(...xs) - 0.5),
            max: Math.ceil(Math.max(...xs) + 0.5),
            title: { display: true, text: byAge ? 'age (years)' : 'years since the first visit', color: '#9ba6b3' },
            ticks: { color: '#9ba6b3' },
            grid: { color: '#2c3540' },
          },
          stage: {
            type: 'linear',
            position: 'left',
            min: 0.6,
            max: 6.4,
            afterBuildTicks: (axis) => {
              axis.ticks = [1, 2, 3, 4, 5, 6].map((value) => ({ value }));
            },
            ticks: { color: '#9ba6b3', callback: (v) => `CS${v}` },
            grid: { color: '#2c3540' },
          },
          p: {
            type: 'linear',
            position: 'right',
            min: -0.08,
            max: 1.08,
            afterBuildTicks: (axis) => {
              axis.ticks = [0, 0.25, 0.5, 0.75, 1].map((value) => ({ value }));
            },
            ticks: { color: '#f2b544', callback: (v) => `${Math.round(Number(v) * 100)}%` },
            grid: { display: false },
          },
          ...(bone.length > 0 ? { [BONE_AGE_AXIS]: boneAgeScale(bone) } : {}),
        },
        plugins: { legend: { labels: { color: '#e8ebef', boxWidth: 12 } } },
      },
    });
    return () => chart.destroy();
  }, [visits, imageId, byAge]);

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
        {timeline.merged.length ? ` (merged: ${timeline.merged.join(', ')})` : ''}
      </div>
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
