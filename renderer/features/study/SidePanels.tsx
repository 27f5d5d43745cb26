/** Landmark list (with each edit's distance from the AI prediction), review status and version history. */
import { memo, type ReactNode } from 'react';
import type { StudyDetail } from '../../../core/api/studies';
import { distance, type PixelSpacingMm } from '../../../core/geometry/index';
import { LANDMARKS, type LandmarkName, type LandmarkSet } from '../../../core/landmarks/index';
import { expectedErrorText, type ExpectedErrors } from '../../canvas/confidence';

export function editDistance(
  name: LandmarkName,
  landmarks: LandmarkSet,
  ai: LandmarkSet | null,
  spacing: PixelSpacingMm | null,
): string | null {
  const p = landmarks[name];
  const a = ai?.[name];
  if (!p || !a) return null;
  const dx = (p.x - a.x) * (spacing?.colMm ?? 1);
  const dy = (p.y - a.y) * (spacing?.rowMm ?? 1);
  const d = Math.hypot(dx, dy);
  if (d < 1e-6) return null;
  return spacing ? `${d.toFixed(2)} mm` : `${distance(p, a).toFixed(1)} px`;
}

export const LandmarkList = memo(function LandmarkList(props: {
  landmarks: LandmarkSet;
  ai: LandmarkSet | null;
  spacing: PixelSpacingMm | null;
  expectedErrors: ExpectedErrors;
  selected: LandmarkName | null;
  flagged: readonly LandmarkName[];
  onSelect: (name: LandmarkName) => void;
  onReset: (name: LandmarkName) => void;
}): ReactNode {
  return (
    <section className="panel" aria-label="Landmarks">
      <h3>Landmarks</h3>
      <ul className="landmark-list">
        {LANDMARKS.map((l) => {
          const moved = editDistance(l.name, props.landmarks, props.ai, props.spacing);
          const expected = expectedErrorText(props.expectedErrors.mm[l.name], props.expectedErrors.flagMm);
          return (
            <li
              key={l.name}
              className={`${props.selected === l.name ? 'selected' : ''} ${props.flagged.includes(l.name) ? 'flagged' : ''}`}
              data-testid={`landmark-${l.name}`}
            >
              <button
                type="button"
                className="link"
                onClick={() => props.onSelect(l.name)}
                title={l.label}
                aria-label={`${l.name}: ${l.label}${props.flagged.includes(l.name) ? ' (flagged by the anatomical check)' : ''}`}
                aria-current={props.selected === l.name ? 'true' : undefined}
              >
                {l.name}
              </button>
              {props.flagged.includes(l.name) && (
                <span className="error-text small" aria-hidden="true">
                  ⚠
                </span>
              )}
              <span className="muted small">{props.landmarks[l.name] ? expected : 'not placed'}</span>
              {moved && (
                <>
                  <span className="moved" data-testid={`moved-${l.name}`}>
                    moved {moved}
                  </span>
                  <button
                    type="button"
                    className="link small"
                    onClick={() => props.onReset(l.name)}
                    title="Back to the AI prediction"
                  >
                    reset
                  </button>
                </>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
});

export const HistoryPanel = memo(function HistoryPanel({
  detail,
  onRevert,
}: {
  detail: StudyDetail;
  onRevert: (versionId: number) => void;
}): ReactNode {
  return (
    <section className="panel" aria-label="Version history">
      <h3>History</h3>
      <ol className="history" data-testid="history">
        {detail.history.map((v) => (
          <li key={v.versionId} className={v.versionId === detail.latest?.versionId ? 'current' : ''}>
            <span className="num">v{v.version}</span>
            <span>{v.kind}</span>
            <span className="muted small cut" title={`${v.author} · ${new Date(v.createdAt).toLocaleString()}`}>
              {v.author} · {new Date(v.createdAt).toLocaleString()}
            </span>
            <span className={`small cut ${v.stage?.kind === 'error' ? 'error-text' : ''}`} title={v.stage?.label ?? ''}>
              {v.stage ? (v.stage.kind === 'error' ? 'no stage (see the panel)' : v.stage.label) : ''}
            </span>
            {v.versionId !== detail.latest?.versionId && (
              <button type="button" className="link small" onClick={() => onRevert(v.versionId)}>
                revert to this
              </button>
            )}
          </li>
        ))}
        {detail.history.length === 0 && <li className="muted">No landmark versions yet.</li>}
      </ol>
    </section>
  );
});
