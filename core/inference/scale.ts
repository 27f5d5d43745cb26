/**
 * Scale for stage 2 when an image has no pixel spacing. Stage 2 looks at a fixed physical size, so it needs
 * mm per pixel; without calibration it is estimated, reported as estimated, and measurements stay in px.
 */
import { distance, type ImagePoint } from '../geometry/index';
import type { LandmarkName } from '../landmarks/index';

/**
 * Assumed antero-posterior depth of the C3 and C4 bodies along their lower border in children and
 * adolescents (the CVM population; about 11-14 mm, adults about 15-16). The adult value 15 mm gave a
 * median 25% too large mm/px on the 54 cvm13 images, which is how it was noticed, so those images are
 * no independent check of this value; individual variation makes the estimate good to about ±15-25%.
 */
export const TYPICAL_BODY_DEPTH_MM = 12.5;
/** Height of a typical lateral cephalogram field when nothing better is known. */
export const TYPICAL_FIELD_HEIGHT_MM = 240;
/**
 * Spacings outside this range are not believable for a cephalogram; the estimate falls back to the field. The floor
 * admits films digitised at 1200 dpi (0.021 mm/px) with the estimate's -25%: at 0.04 such a scan stated at 0.1 mm/px
 * was never taken for wrongly stated, and failed as "not shaped like C2-C4".
 */
export const PLAUSIBLE_SPACING_MM: readonly [number, number] = [0.015, 0.5];

export interface SpacingEstimate {
  readonly mmPerPixel: number;
  readonly method: 'vertebral-body-depth' | 'field-height';
  /** One line for the user. */
  readonly detail: string;
}

export function estimateSpacing(
  landmarks: Partial<Record<LandmarkName, ImagePoint>>,
  imageHeight: number,
): SpacingEstimate {
  const depths: number[] = [];
  for (const [p, a] of [
    ['C3lp', 'C3la'],
    ['C4lp', 'C4la'],
  ] as const) {
    const pp = landmarks[p];
    const pa = landmarks[a];
    if (pp && pa) depths.push(distance(pp, pa));
  }
  const fieldEstimate = TYPICAL_FIELD_HEIGHT_MM / imageHeight;
  const fallback = (why: string): SpacingEstimate => ({
    mmPerPixel: fieldEstimate,
    method: 'field-height',
    detail: `estimated ${fieldEstimate.toFixed(3)} mm/px assuming a ${TYPICAL_FIELD_HEIGHT_MM} mm tall field (${why})`,
  });
  if (depths.length === 0) return fallback('no C3/C4 lower borders found');
  const meanDepthPx = depths.reduce((a, b) => a + b, 0) / depths.length;
  const mmPerPixel = TYPICAL_BODY_DEPTH_MM / meanDepthPx;
  if (!(mmPerPixel >= PLAUSIBLE_SPACING_MM[0] && mmPerPixel <= PLAUSIBLE_SPACING_MM[1])) {
    return fallback(`the vertebral estimate ${mmPerPixel.toFixed(3)} mm/px is implausible`);
  }
  return {
    mmPerPixel,
    method: 'vertebral-body-depth',
    detail: `estimated ${mmPerPixel.toFixed(3)} mm/px assuming C3/C4 bodies ${TYPICAL_BODY_DEPTH_MM} mm deep`,
  };
}

/**
 * A stated spacing this many times larger or smaller than the vertebrae's estimate is taken for wrong. On the 54
 * cvm13 images (true 0.1 mm/px) the estimate lies within 0.085-0.110 mm/px, so only a gross error (an image
 * resampled without its spacing, a value typed for another image) comes this far.
 */
export const SPACING_DISAGREEMENT_FACTOR = 1.5;

/** How far a stated spacing is from the vertebrae's estimate, when it is too far to crop stage 2 at it. */
export interface SpacingDisagreement {
  readonly statedMm: number;
  readonly estimatedMm: number;
  /** stated / estimated: the vertebrae's size at the stated spacing relative to a typical one. */
  readonly factor: number;
  /** One sentence for the user. */
  readonly message: string;
}

/**
 * Null when a stated spacing (geometric mean of its rows and columns) is within SPACING_DISAGREEMENT_FACTOR of the
 * estimate from the vertebrae, or when the estimate is not from the vertebrae (the field-height fallback).
 */
export function spacingDisagreement(
  stated: { readonly rowMm: number; readonly colMm: number },
  estimate: SpacingEstimate,
): SpacingDisagreement | null {
  if (estimate.method !== 'vertebral-body-depth') return null;
  const statedMm = Math.sqrt(stated.rowMm * stated.colMm);
  const factor = statedMm / estimate.mmPerPixel;
  if (!(factor > SPACING_DISAGREEMENT_FACTOR || factor < 1 / SPACING_DISAGREEMENT_FACTOR)) return null;
  const size = factor > 1 ? `${factor.toFixed(1)} times` : `${Math.round(factor * 100)}% of`;
  return {
    statedMm,
    estimatedMm: estimate.mmPerPixel,
    factor,
    message:
      `The stated pixel spacing (${statedMm.toFixed(3)} mm/px) makes C3 and C4 ${size} their usual size ` +
      `(the vertebrae suggest about ${estimate.mmPerPixel.toFixed(3)} mm/px): check the spacing. The landmarks ` +
      'were placed at the vertebrae\u2019s scale; millimetres use the stated spacing.',
  };
}
