/** Threshold presets for the staging rules (see docs/staging.md for their sources and where they differ). */
import type { Thresholds } from './types';

/**
 * Defaults from the published operationalisation of the 2018 user's guide (Table 1 of PMC8964471):
 * - concave lower border: depth from the corner-to-corner chord at least 7% of the chord; plus a 0.5 mm floor
 *   (about the human inter-observer distance on these landmarks, 0.57 mm on image 001) so a depth smaller than
 *   the placement error never counts as concave when the spacing is known;
 * - body shape from width (between the midpoints of the anterior and posterior borders) over height (between
 *   the midpoints of the upper border and the lower chord): square when within 10% of 1 (0.9 to 1.1);
 * - trapezoid when the anterior height is clearly shorter than the posterior height: below 85% of it (a
 *   judgement value, not from the literature: the guide only says the upper border tapers towards the front).
 * Tolerances reflect landmark placement error (about 0.5 mm: 1.5 percentage points of a 15 mm chord after
 * averaging, 0.05 of a ratio of two 10-15 mm lengths).
 */
export const DEFAULT_THRESHOLDS: Thresholds = {
  name: 'default',
  description:
    "2018 user's guide table; concavity >= 7% of the chord (and >= 0.5 mm); square = width/height within 10% of 1; trapezoid = anterior height < 85% of posterior",
  concavity: { minShareOfChord: 0.07, minDepthMm: 0.5, shareAppliesWithSpacing: true },
  shape: {
    ratio: 'midline',
    trapezoidMaxHeightRatio: 0.85,
    trapezoidMaxWidthRatio: null,
    squareMin: 0.9,
    squareMax: 1.1,
  },
  tolerance: { concavityShare: 0.015, concavityMm: 0.2, heightRatio: 0.05, widthRatio: 0.05, ratio: 0.05 },
  rules: 'guide-2018',
};

/**
 * The rules of the public cvmt project (saeedmehrang/cvmt, configs/params.yaml, INFERENCE.MCNAMARA), reproduced
 * for comparison: concave when the depth below the chord is >= 1.0 mm; trapezoid unless anterior/posterior height
 * >= 0.95 and superior/inferior width >= 0.95; width/height = superior width / posterior height, square from 0.95
 * to 1.05; its rule order (rules: 'cvmt'). Without a spacing, which cvmt cannot handle, the 7% share is used.
 */
export const CVMT_THRESHOLDS: Thresholds = {
  name: 'cvmt',
  description:
    'cvmt project rules: concavity >= 1 mm; trapezoid unless anterior/posterior >= 0.95 and superior/inferior >= 0.95; square = superior width / posterior height in 0.95-1.05',
  concavity: { minShareOfChord: 0.07, minDepthMm: 1.0, shareAppliesWithSpacing: false },
  shape: {
    ratio: 'superior-width-over-posterior-height',
    trapezoidMaxHeightRatio: 0.95,
    trapezoidMaxWidthRatio: 0.95,
    squareMin: 0.95,
    squareMax: 1.05,
  },
  tolerance: { concavityShare: 0.015, concavityMm: 0.2, heightRatio: 0.03, widthRatio: 0.03, ratio: 0.03 },
  rules: 'cvmt',
};

export const THRESHOLD_PRESETS: Record<'default' | 'cvmt', Thresholds> = {
  default: DEFAULT_THRESHOLDS,
  cvmt: CVMT_THRESHOLDS,
};
