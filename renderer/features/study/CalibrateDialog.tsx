/** Calibration: type the pixel spacing, or mark two points of a known distance (e.g. the cephalostat ruler). */
import { useState, type ReactNode } from 'react';
import { calibrate, type CalibrationEntry } from '../../../core/geometry/calibration';
import { distance, type ImagePoint } from '../../../core/geometry/index';

export interface CalibrateDialogProps {
  /** Two points already marked on the image, when calibrating by distance. */
  readonly points: readonly [ImagePoint, ImagePoint] | null;
  readonly hasCalibration: boolean;
  /** Row/column spacing of the file when it declared non-square pixels (kept by the calibration). */
  readonly aspect: number;
  readonly onMarkPoints: () => void;
  readonly onSubmit: (entry: CalibrationEntry | null) => Promise<string | null>;
  readonly onClose: () => void;
}

export function CalibrateDialog({
  points,
  hasCalibration,
  aspect,
  onMarkPoints,
  onSubmit,
  onClose,
}: CalibrateDialogProps): ReactNode {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const pixels = points ? distance(points[0], points[1]) : null;

  const submit = async (): Promise<void> => {
    const number = Number(value.replace(',', '.'));
    if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
      setError(
        points
          ? 'Enter the known distance in mm, greater than 0.'
          : 'Enter the pixel spacing in mm per pixel, greater than 0.',
      );
      return;
    }
    const entry: CalibrationEntry = points
      ? { method: 'two-points', a: points[0], b: points[1], knownMm: number }
      : { method: 'entered', spacingMm: number };
    // The same check main applies, for an answer before the round trip.
    const checked = calibrate(entry, aspect);
    if (!checked.ok) {
      setError(checked.error.message);
      return;
    }
    const err = await onSubmit(entry);
    if (err) setError(err);
    else onClose();
  };

  // One field, labelled for what it asks: the known distance, or the spacing itself.
  const field = (
    <input
      autoFocus
      data-testid="calibrate-value"
      inputMode="decimal"
      value={value}
      onChange={(e) => setValue(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') void submit();
      }}
    />
  );

  return (
    <div
      className="dialog-backdrop"
      role="presentation"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
        e.stopPropagation();
      }}
    >
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="calibrate-title">
        <h2 id="calibrate-title">Calibrate the image</h2>
        {points && pixels !== null ? (
          <label>
            Known distance between the two marked points ({pixels.toFixed(1)} px), in mm
            {field}
          </label>
        ) : (
          <>
            <label>
              Pixel spacing in mm per pixel
              {field}
            </label>
            {aspect !== 1 && (
              <p className="muted small">
                The file declares non-square pixels: this is the horizontal spacing; the pixel shape is kept.
              </p>
            )}
            <p className="muted small">Or mark two points of a known distance, e.g. 10 mm on the cephalostat ruler.</p>
            <button type="button" onClick={onMarkPoints}>
              Mark two points…
            </button>
          </>
        )}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          {hasCalibration && (
            <button type="button" onClick={() => void onSubmit(null).then(onClose)}>
              Remove calibration
            </button>
          )}
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={() => void submit()} data-testid="calibrate-apply">
            Apply
          </button>
        </div>
      </div>
    </div>
  );
}
