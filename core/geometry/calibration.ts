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
  for (const [name, v] of [['row', rowMm], ['column', colMm]] as const) {
    if (!Number.isFinite(v) || v <= 0) return fail('invalid-request', `The ${name} spacing must be a positive number of millimetres, not ${v}.`);
    if (v < PLAUSIBLE_SPACING_MM.min || v > PLAUSIBLE_SPACING_MM.max) {
      return fail('invalid-request', `A ${name} spacing of ${v} mm per pixel is implausible for a radiograph (expected ${PLAUSIBLE_SPACING_MM.min} to ${PLAUSIBLE_SPACING_MM.max} mm).`);
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
export function spacingFromKnownDistance(a: ImagePoint, b: ImagePoint, knownMm: number, aspect = 1): Result<PixelSpacingMm> {
  if (!Number.isFinite(knownMm) || knownMm <= 0) return fail('invalid-request', `The known distance must be a positive number of millimetres, not ${knownMm}.`);
  if (!Number.isFinite(aspect) || aspect <= 0) return fail('invalid-request', `The pixel aspect ratio must be positive, not ${aspect}.`);
  if (![a.x, a.y, b.x, b.y].every(Number.isFinite)) return fail('invalid-request', 'Both calibration points must be on the image.');
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthPx = Math.hypot(dx, dy);
  if (lengthPx < MIN_CALIBRATION_PX) {
    return fail('invalid-request', `The marked points are ${lengthPx.toFixed(1)} px apart; mark a distance of at least ${MIN_CALIBRATION_PX} px for an accurate calibration.`);
  }
  // knownMm = hypot(dx * colMm, dy * colMm * aspect)
  const colMm = knownMm / Math.hypot(dx, dy * aspect);
  return checkPlausible(colMm * aspect, colMm);
}
