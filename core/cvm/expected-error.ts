/**
 * What a report says about the landmark model's expected error (docs/inference.md, "Expected error") on the
 * landmarks as they are now: the points still exactly where the model put them carry its calibrated expected
 * error; a point a person placed or moved carries none (it is theirs, not the model's). Pure, for the printed
 * report and its tests.
 */
import { modelPlacedErrors } from './model-stage';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../landmarks/index';

export interface ModelPlacedPoint {
  readonly name: LandmarkName;
  /** Expected radial error, mm. */
  readonly mm: number;
  /** At or above the model's flag threshold: shown as "check". */
  readonly flagged: boolean;
}

export interface ExpectedErrorSummary {
  /** Model-placed points with a calibrated expected error, in landmark order. */
  readonly points: readonly ModelPlacedPoint[];
  /** Whether the landmarks have a model run to compare with. */
  readonly modelRun: boolean;
  /** Points a person placed or moved (every point when there is no model run). */
  readonly byPerson: readonly LandmarkName[];
  readonly medianMm: number | null;
  readonly largest: ModelPlacedPoint | null;
  readonly flagMm: number;
}

export function summariseExpectedErrors(
  landmarks: LandmarkSet,
  ai: LandmarkSet | null,
  expectedMm: Partial<Record<LandmarkName, number>>,
  flagMm: number,
): ExpectedErrorSummary {
  const placed = modelPlacedErrors(landmarks, ai, expectedMm);
  const points: ModelPlacedPoint[] = [];
  const byPerson: LandmarkName[] = [];
  for (const name of LANDMARK_NAMES) {
    if (!landmarks[name]) continue;
    if (!(name in placed)) {
      byPerson.push(name);
      continue;
    }
    const mm = placed[name];
    if (typeof mm === 'number') points.push({ name, mm, flagged: mm >= flagMm });
  }
  const sorted = points.map((p) => p.mm).sort((a, b) => a - b);
  const medianMm = median(sorted);
  const largest = points.reduce<ModelPlacedPoint | null>((m, p) => (m === null || p.mm > m.mm ? p : m), null);
  return { points, modelRun: ai !== null, byPerson, medianMm, largest, flagMm };
}

/** The median of ascending values (null for none). */
function median(ascending: readonly number[]): number | null {
  const n = ascending.length;
  if (n === 0) return null;
  const hi = ascending[n >> 1] ?? 0;
  return n % 2 ? hi : ((ascending[(n >> 1) - 1] ?? hi) + hi) / 2;
}

const mm1 = (v: number): string => `±${v.toFixed(1)} mm`;

/**
 * The report's sentences: the model's points (median and largest expected error, those to check) and the points a
 * person placed or moved. Empty when the run carries no calibration and nobody moved a point.
 */
export function expectedErrorSentences(s: ExpectedErrorSummary): string[] {
  const out: string[] = [];
  if (s.points.length > 0 && s.medianMm !== null && s.largest) {
    const n = s.points.length;
    out.push(
      `Expected error of the model's ${n} landmark${n === 1 ? '' : 's'} (cross-validated): ` +
        `median ${mm1(s.medianMm)}, largest ${mm1(s.largest.mm)} (${s.largest.name}).`,
    );
    const check = s.points.filter((p) => p.flagged);
    out.push(
      check.length > 0
        ? `To check (expected ${s.flagMm.toFixed(2)} mm or more off): ${check.map((p) => `${p.name} ${mm1(p.mm)}`).join(', ')}.`
        : `None expected ${s.flagMm.toFixed(2)} mm or more off.`,
    );
  }
  if (s.modelRun && s.byPerson.length > 0) out.push(`Placed or moved by a person: ${s.byPerson.join(', ')}.`);
  return out;
}
