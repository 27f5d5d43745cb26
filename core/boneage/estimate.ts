/**
 * Bone age from the ensemble's outputs: each fold model gives a mean and a log-variance in months; the
 * ensemble's mean is their average, its variance the mean aleatoric variance plus the spread of the means,
 * and the interval is mean +- z * scale * sd, where `scale` was fitted on out-of-fold predictions so that
 * the interval covers its nominal share of the cross-validated cases.
 */

export type Sex = 'M' | 'F';

export interface BoneAgeCalibration {
  /** Nominal coverage of the interval, e.g. 0.9. */
  readonly level: number;
  /** Standard normal quantile for that level (1.645 for 0.9). */
  readonly z: number;
  /** Multiplies the predicted sd; fitted on out-of-fold predictions. */
  readonly scale: number;
  /** Linear recalibration of each member's mean: months = meanIntercept + meanSlope * mean (sd times meanSlope). */
  readonly meanIntercept?: number;
  readonly meanSlope?: number;
}

export interface BoneAgeEstimate {
  readonly months: number;
  /** Predictive standard deviation in months, calibrated (scale applied). */
  readonly sdMonths: number;
  readonly interval: { readonly low: number; readonly high: number; readonly level: number };
  /** Each fold model's mean, months (for the record and to show the ensemble's agreement). */
  readonly members: readonly number[];
}

/** `outputs`: [members x 2] row-major (mean months, log variance months^2). */
export function combineBoneAge(
  outputs: ArrayLike<number>,
  calibration: BoneAgeCalibration,
  range: readonly [number, number],
): BoneAgeEstimate {
  const n = outputs.length / 2;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`expected pairs of (mean, log variance), got ${outputs.length} values`);
  const a = calibration.meanIntercept ?? 0;
  const b = calibration.meanSlope ?? 1;
  const means: number[] = [];
  let aleatoric = 0;
  for (let i = 0; i < n; i++) {
    const m = outputs[2 * i];
    const lv = outputs[2 * i + 1];
    if (m === undefined || lv === undefined || !Number.isFinite(m) || !Number.isFinite(lv))
      throw new Error('the bone-age model returned a non-finite value');
    means.push(a + b * m);
    aleatoric += (b * b * Math.exp(lv)) / n;
  }
  const mean = means.reduce((a, b) => a + b, 0) / n;
  const spread = means.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  const sd = Math.sqrt(aleatoric + spread) * calibration.scale;
  const [lo, hi] = range;
  const months = Math.min(hi, Math.max(lo, mean));
  return {
    months,
    sdMonths: sd,
    interval: {
      low: Math.max(lo, months - calibration.z * sd),
      high: Math.min(hi, months + calibration.z * sd),
      level: calibration.level,
    },
    members: means,
  };
}

/** "11 y 4 mo" */
export function formatYearsMonths(months: number): string {
  const total = Math.round(months);
  const sign = total < 0 ? '-' : '';
  const a = Math.abs(total);
  return `${sign}${Math.floor(a / 12)} y ${a % 12} mo`;
}

/**
 * Reference for "difference in standard deviations": the spread of bone age minus chronological age in
 * healthy children read with the Greulich-Pyle atlas, 1.11 years for boys and 1.13 years for girls
 * (Alcina et al., J Forensic Leg Investig Sci 2015, 2:008: Spanish sample, mean BA - CA 0.32 +- 1.11 y in
 * boys, 0.51 +- 1.13 y in girls). One value for all ages: the atlas's own age-specific SDs (smaller in
 * infancy) are not reproduced here, so the SD score is approximate below about 3 years.
 */
export const BONE_AGE_SD_REFERENCE = {
  name: 'SD of bone age minus chronological age, Greulich-Pyle readings of healthy children (Alcina et al. 2015)',
  sdMonths: { M: 1.11 * 12, F: 1.13 * 12 } as Readonly<Record<Sex, number>>,
} as const;

export interface AgeComparison {
  readonly chronologicalMonths: number;
  /** Bone age minus chronological age. */
  readonly differenceMonths: number;
  /** differenceMonths / the reference SD for the sex. */
  readonly sdScore: number;
  readonly referenceSdMonths: number;
  readonly reference: string;
}

export function compareWithAge(
  boneAgeMonths: number,
  chronologicalYears: number | null,
  sex: Sex,
): AgeComparison | null {
  if (chronologicalYears === null || !Number.isFinite(chronologicalYears) || chronologicalYears < 0) return null;
  const chronologicalMonths = chronologicalYears * 12;
  const differenceMonths = boneAgeMonths - chronologicalMonths;
  const referenceSdMonths = BONE_AGE_SD_REFERENCE.sdMonths[sex];
  return {
    chronologicalMonths,
    differenceMonths,
    sdScore: differenceMonths / referenceSdMonths,
    referenceSdMonths,
    reference: BONE_AGE_SD_REFERENCE.name,
  };
}

/** Sex from a DICOM PatientSex or a command-line word; null when unknown ('O' or absent). */
export function parseSex(value: string | null | undefined): Sex | null {
  if (value === null || value === undefined) return null;
  const v = value.trim().toLowerCase();
  if (v === 'm' || v === 'male') return 'M';
  if (v === 'f' || v === 'female') return 'F';
  return null;
}
