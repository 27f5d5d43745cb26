/**
 * Handle colours: by the calibrated expected error (mm) of each AI point (docs/inference.md, "Expected
 * error"), a distinct colour once a person moved the point. Raw heatmap peaks are never shown.
 */
import { isLandmarkName, type LandmarkName } from '../../core/landmarks/index';

export type ConfidenceLevel = 'high' | 'medium' | 'low' | 'edited' | 'unknown';

/** Below this expected error a point is shown as good (about the median error of the model in cross-validation). */
export const EXPECTED_GOOD_MM = 0.75;
/** Used when the stored run does not carry the model's own flag threshold. */
export const DEFAULT_FLAG_MM = 1.0;

export function confidenceLevel(
  expectedErrorMm: number | undefined,
  edited: boolean,
  flagMm = DEFAULT_FLAG_MM,
): ConfidenceLevel {
  if (edited) return 'edited';
  if (expectedErrorMm === undefined) return 'unknown';
  if (expectedErrorMm >= flagMm) return 'low';
  if (expectedErrorMm < EXPECTED_GOOD_MM) return 'high';
  return 'medium';
}

export const LEVEL_COLOR: Record<ConfidenceLevel, string> = {
  high: '#3ecf8e',
  medium: '#f2b544',
  low: '#ff6b6b',
  edited: '#5ab0ff',
  unknown: '#d0d6de',
};

export interface ExpectedErrors {
  /** Expected radial error per AI landmark, mm. */
  readonly mm: Partial<Record<LandmarkName, number>>;
  /** The model's flag threshold (points expected this far off or more are to be checked). */
  readonly flagMm: number;
}

/** The expected errors stored with a model run (its quality record); empty for runs made before them. */
export function expectedErrorsOf(quality: unknown): ExpectedErrors {
  const q = typeof quality === 'object' && quality !== null ? (quality as Record<string, unknown>) : {};
  const raw =
    typeof q.expectedErrorMm === 'object' && q.expectedErrorMm !== null
      ? (q.expectedErrorMm as Record<string, unknown>)
      : {};
  const mm: Partial<Record<LandmarkName, number>> = {};
  for (const [k, v] of Object.entries(raw))
    if (isLandmarkName(k) && typeof v === 'number' && Number.isFinite(v) && v >= 0) mm[k] = v;
  const flagMm = typeof q.flagMm === 'number' && q.flagMm > 0 ? q.flagMm : DEFAULT_FLAG_MM;
  return { mm, flagMm };
}

/** "±0.6 mm", or "±1.3 mm, check" when flagged. */
export function expectedErrorText(mm: number | undefined, flagMm: number): string {
  if (mm === undefined) return '';
  return `±${mm.toFixed(1)} mm${mm >= flagMm ? ', check' : ''}`;
}
