/**
 * User calibration of an image's pixel spacing: from two marked points a known distance apart (e.g. the
 * ruler on the cephalostat), or typed in. Pure; where the result is stored is someone else's concern.
 */
import { fail, ok, type Result } from '../api/result';
import type { ImagePoint, PixelSpacingMm } from './index';

/** Spacings outside this range (mm per pixel) are not radiographs: refused as a typing or marking error. */
export const PLAUSIBLE_SPACING_MM = { min: 0.01, max: 2 } as const;

/** Shorter marks make the calibration too sensitive to a one-pixel slip (over 2% error). */
export const MIN_CALIBRATION_PX = 50;

function checkPlausible(rowMm: number, colMm: number): Result<PixelSpacingMm> {
  for (const [name, v] of [
    ['row', rowMm],
    ['column', colMm],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0)
      return fail('invalid-request', `The ${name} spacing must be a positive number of millimetres, not ${v}.`);
    if (v < PLAUSIBLE_SPACING_MM.min || v > PLAUSIBLE_SPACING_MM.max) {
      return fail(
        'invalid-request',
        `A ${name} spacing of ${v} mm per pixel is implausible for a radiograph (expected ${PLAUSIBLE_SPACING_MM.min} to ${PLAUSIBLE_SPACING_MM.max} mm).`,
      );
    }
  }
  return ok({ rowMm, colMm });
}

/** A typed spacing: one value for square pixels, or row and column spacing. */
export function validateTypedSpacing(rowMm: number, colMm: number = rowMm): Result<PixelSpacingMm> {
  return checkPlausible(rowMm, colMm);
}

/**
 * Spacing from two points `knownMm` apart. `aspect` (row spacing / column spacing, 1 for square pixels)
 * keeps the pixel shape of a file that declared non-square pixels.
 */
export function spacingFromKnownDistance(
  a: ImagePoint,
  b: ImagePoint,
  knownMm: number,
  aspect = 1,
): Result<PixelSpacingMm> {
  if (!Number.isFinite(knownMm) || knownMm <= 0)
    return fail('invalid-request', `The known distance must be a positive number of millimetres, not ${knownMm}.`);
  if (!Number.isFinite(aspect) || aspect <= 0)
    return fail('invalid-request', `The pixel aspect ratio must be positive, not ${aspect}.`);
  if (![a.x, a.y, b.x, b.y].every(Number.isFinite))
    return fail('invalid-request', 'Both calibration points must be on the image.');
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthPx = Math.hypot(dx, dy);
  if (lengthPx < MIN_CALIBRATION_PX) {
    return fail(
      'invalid-request',
      `The marked points are ${lengthPx.toFixed(1)} px apart; mark a distance of at least ${MIN_CALIBRATION_PX} px for an accurate calibration.`,
    );
  }
  // knownMm = hypot(dx * colMm, dy * colMm * aspect)
  const colMm = knownMm / Math.hypot(dx, dy * aspect);
  return checkPlausible(colMm * aspect, colMm);
}

/** What the user gave: a typed spacing, or two marked points a known distance apart. */
export type CalibrationEntry =
  | { readonly method: 'entered'; readonly spacingMm: number }
  | { readonly method: 'two-points'; readonly a: ImagePoint; readonly b: ImagePoint; readonly knownMm: number };

export interface CalibrationOutcome {
  readonly spacing: PixelSpacingMm;
  /** What was done, for the record: "10 mm between (100.0, 200.0) and (100.0, 300.0), 100.0 px". */
  readonly detail: string;
}

/**
 * The one calibration path, used by the dialog (for immediate feedback) and by the service (which decides).
 * `aspect` is the file's row/column spacing ratio when it declared non-square pixels: a typed value is the
 * column (horizontal) spacing, and the pixel shape is kept rather than silently made square.
 */
export function calibrate(entry: CalibrationEntry, aspect = 1): Result<CalibrationOutcome> {
  if (!Number.isFinite(aspect) || aspect <= 0)
    return fail('invalid-request', `The pixel aspect ratio must be positive, not ${aspect}.`);
  const shape = aspect === 1 ? '' : `; non-square pixels kept (row/column ${aspect.toFixed(3)})`;
  if (entry.method === 'entered') {
    const spacing = validateTypedSpacing(entry.spacingMm * aspect, entry.spacingMm);
    if (!spacing.ok) return spacing;
    return ok({ spacing: spacing.value, detail: `entered ${entry.spacingMm} mm/px${shape}` });
  }
  const spacing = spacingFromKnownDistance(entry.a, entry.b, entry.knownMm, aspect);
  if (!spacing.ok) return spacing;
  const px = Math.hypot(entry.b.x - entry.a.x, entry.b.y - entry.a.y);
  const at = (p: ImagePoint): string => `(${p.x.toFixed(1)}, ${p.y.toFixed(1)})`;
  return ok({
    spacing: spacing.value,
    detail: `${entry.knownMm} mm between ${at(entry.a)} and ${at(entry.b)}, ${px.toFixed(1)} px${shape}`,
  });
}
