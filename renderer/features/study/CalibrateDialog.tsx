/** Calibration: type the pixel spacing, or mark two points of a known distance (e.g. the cephalostat ruler). */
import { useState, type ReactNode } from 'react';
import { distance, type ImagePoint } from '../../../core/geometry/index';

export interface CalibrateDialogProps {
  /** Two points already marked on the image, when calibrating by distance. */
  readonly points: readonly [ImagePoint, ImagePoint] | null;
  readonly hasCalibration: boolean;
  readonly onMarkPoints: () => void;
  readonly onSubmit: (spacingMm: number | null, method: 'entered' | 'two-points', detail: string) => Promise<string | null>;
  readonly onClose: () => void;
}

export function CalibrateDialog({ points, hasCalibration, onMarkPoints, onSubmit, onClose }: CalibrateDialogProps): ReactNode {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const pixels = points ? distance(points[0], points[1]) : null;

  const submit = async (): Promise<void> => {
    const number = Number(value.replace(',', '.'));
    if (!Number.isFinite(number) || number <= 0) {
      setError(points ? 'Enter the known distance in mm, greater than 0.' : 'Enter the pixel spacing in mm per pixel, greater than 0.');
      return;
    }
    if (points && pixels !== null) {
      if (pixels < 5) { setError('The two points are too close together to calibrate from.'); return; }
      const spacing = number / pixels;
      const detail = `${number} mm between (${points[0].x.toFixed(1)}, ${points[0].y.toFixed(1)}) and (${points[1].x.toFixed(1)}, ${points[1].y.toFixed(1)}), ${pixels.toFixed(1)} px`;
      const err = await onSubmit(spacing, 'two-points', detail);
      if (err) setError(err); else onClose();
    } else {
      const err = await onSubmit(number, 'entered', `entered ${number} mm/px`);
      if (err) setError(err); else onClose();
    }
  };

  return (
    <div className="dialog-backdrop" role="presentation" onKeyDown={(e) => { if (e.key === 'Escape') onClose(); e.stopPropagation(); }}>
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="calibrate-title">
        <h2 id="calibrate-title">Calibrate the image</h2>
        {points && pixels !== null ? (
          <label>Known distance between the two marked points ({pixels.toFixed(1)} px), in mm
            <input autoFocus data-testid="calibrate-value" inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)}
              onKeyDown={(e) => { if (e.key === 'Enter') void submit(); }} />
          </label>
        ) : (
          <>
            <label>Pixel spacing in mm per pixel
              <input autoFocus data-testid="calibrate-value" inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)}
                onKeyDown={(e) => { if (e.key === 'Enter') void submit(); }} />
            </label>
            <p className="muted small">Or mark two points of a known distance, e.g. 10 mm on the cephalostat ruler.</p>
            <button type="button" onClick={onMarkPoints}>Mark two points…</button>
          </>
        )}
        {error && <p className="error-text" role="alert">{error}</p>}
        <div className="dialog-actions">
          {hasCalibration && <button type="button" onClick={() => void onSubmit(null, 'entered', 'calibration removed').then(onClose)}>Remove calibration</button>}
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="button" className="primary" onClick={() => void submit()} data-testid="calibrate-apply">Apply</button>
        </div>
      </div>
    </div>
  );
}
