/**
 * Hand-wrist radiographs: the recognised kind of the image and, for a hand, its bone age (years and
 * months, interval), chronological age, the difference in months and in SD for age and sex (reference
 * named), and the sex, which can be entered when the file has none (audited by main).
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { BoneAgeView } from '../../../core/api/boneage';
import { formatYearsMonths } from '../../../core/boneage/index';
import { api } from '../../api';

const pct = (p: number): string => `${Math.round(p * 100)}%`;
const signed = (v: number, d = 0): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(d)}`;

export function BoneAgePanel({
  imageId,
  onChange,
}: {
  readonly imageId: number;
  /** Called with the view after the sex was entered or a bone age estimated (the approval rules use it). */
  readonly onChange?: (view: BoneAgeView) => void;
}): ReactNode {
  const [view, setView] = useState<BoneAgeView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    void api.getBoneAge({ imageId }).then((r) => {
      if (!live) return;
      if (r.ok) setView(r.value);
      else setError(r.error.message);
    });
    return () => {
      live = false;
    };
  }, [imageId]);

  const act = useCallback(
    async (fn: () => ReturnType<typeof api.getBoneAge>) => {
      setBusy(true);
      setError(null);
      const r = await fn();
      setBusy(false);
      if (r.ok) {
        setView(r.value);
        onChange?.(r.value);
      } else setError(r.error.message);
    },
    [onChange],
  );

  if (!view)
    return error ? (
      <section className="panel bone-age-panel" aria-label="Bone age">
        <p className="error" role="alert">
          {error}
        </p>
      </section>
    ) : null;
  const kind = view.kind;
  // Only hand-wrist radiographs get this panel; a cephalogram's panels are the CVM ones.
  if (!kind || kind.kind !== 'hand') return null;
  const b = view.latest;
  const c = view.comparison;
  return (
    <section className="panel bone-age-panel" aria-label="Bone age" data-testid="bone-age-panel">
      <h3>Hand-wrist radiograph</h3>
      <p className="note" data-testid="radiograph-kind">
        Recognised as a hand (P {pct(kind.probabilities.hand)}): no vertebral landmarks for this image.
      </p>
      <h3>Sex</h3>
      {view.sexEditable ? (
        <label>
          {view.sex ? 'Entered: ' : 'Not in the file: '}
          <select
            aria-label="Patient sex"
            data-testid="sex-select"
            value={view.sex ?? ''}
            disabled={busy}
            onChange={(e) => {
              const sex = e.target.value;
              if (sex === 'M' || sex === 'F') void act(() => api.setPatientSex({ imageId, sex }));
            }}
          >
            <option value="" disabled>
              choose…
            </option>
            <option value="F">female</option>
            <option value="M">male</option>
          </select>
        </label>
      ) : (
        <p data-testid="sex">{view.sex === 'M' ? 'male' : 'female'} (DICOM PatientSex)</p>
      )}
      <h3>Bone age</h3>
      {b ? (
        <>
          <div className="stage-value good" data-testid="bone-age">
            {formatYearsMonths(b.months)}
          </div>
          <p data-testid="bone-age-interval">
            {Math.round(b.interval.level * 100)}% interval {formatYearsMonths(b.interval.low)} –{' '}
            {formatYearsMonths(b.interval.high)} ({b.months.toFixed(0)} months, {b.interval.low.toFixed(0)}–
            {b.interval.high.toFixed(0)})
          </p>
          {c ? (
            <p data-testid="bone-age-difference">
              Chronological age {formatYearsMonths(c.chronologicalMonths)}; bone age {signed(c.differenceMonths)} months
              = {signed(c.sdScore, 1)} SD
              <br />
              <span className="muted">
                SD {c.referenceSdMonths.toFixed(1)} months ({b.sex === 'M' ? 'boys' : 'girls'}): {c.reference}
              </span>
            </p>
          ) : (
            <p className="muted" data-testid="bone-age-difference">
              Chronological age unknown (no birth and study dates in the file).
            </p>
          )}
          <p className="muted">
            Sex used: {b.sex === 'M' ? 'male' : 'female'} ({b.sexSource}). {b.model.id} {b.model.version},{' '}
            {b.members.length} fold models.
          </p>
        </>
      ) : (
        <p className="muted" data-testid="bone-age">
          No bone age yet.
        </p>
      )}
      <button
        type="button"
        data-testid="estimate-bone-age"
        disabled={busy || !view.sex}
        onClick={() => void act(() => api.estimateBoneAge({ imageId }))}
      >
        {b ? 'Estimate again' : 'Estimate bone age'}
      </button>
      {!view.sex && <p className="muted">Enter the sex first: bone age depends on it.</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <details>
        <summary>About the model</summary>
        {view.modelCard.map((line) => (
          <p key={line} className="note">
            {line}
          </p>
        ))}
      </details>
    </section>
  );
}
