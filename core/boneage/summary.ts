/**
 * Bone age in words, for every place that shows a stored result beside the CVM stage: the one-page report
 * (renderer/features/study/report-boneage.ts), the patient's growth timeline (visit list and chart series) and
 * the panel. Pure: no DOM, no Node.
 */
import { formatYearsMonths, type AgeComparison, type Sex } from './estimate';

/** A stored result as the API gives it (BoneAgeRecord: nested interval) or as the timeline does (flat). */
export type StoredBoneAge =
  | {
      readonly months: number;
      readonly interval: { readonly low: number; readonly high: number; readonly level: number };
      readonly sex: Sex | string;
    }
  | {
      readonly months: number;
      readonly low: number;
      readonly high: number;
      readonly level: number;
      readonly sex: Sex | string;
    };

/** The interval of either shape. */
export function intervalOf(b: StoredBoneAge): { low: number; high: number; level: number } {
  return 'interval' in b ? b.interval : { low: b.low, high: b.high, level: b.level };
}

const signed = (v: number, digits = 0): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;

/** "11 y 4 mo (90% 10 y 1 mo – 12 y 7 mo)" */
export function boneAgeText(b: StoredBoneAge): string {
  const i = intervalOf(b);
  return `${formatYearsMonths(b.months)} (${Math.round(i.level * 100)}% ${formatYearsMonths(i.low)} – ${formatYearsMonths(i.high)})`;
}

/** "bone age +14 months vs chronological age (+1.0 SD for girls)", or null without an age. */
export function comparisonText(c: AgeComparison | null, sex: Sex): string | null {
  if (!c) return null;
  return (
    `Chronological age ${formatYearsMonths(c.chronologicalMonths)}: bone age ${signed(c.differenceMonths)} months ` +
    `(${signed(c.sdScore, 1)} SD for ${sex === 'M' ? 'boys' : 'girls'}; reference: ${c.reference}).`
  );
}

/** One point of a bone-age series on a growth chart: x as the chart's x (age), bone age and interval in years. */
export interface BoneAgePoint {
  readonly imageId: number;
  readonly x: number;
  readonly years: number;
  readonly lowYears: number;
  readonly highYears: number;
}

/**
 * The bone-age series of a patient's visits for a growth chart whose x is chronological age (or years since the
 * first visit): visits with a bone age and an x. `xOf` is the chart's own placement of a visit.
 */
export function boneAgeSeries<V extends { readonly imageId: number; readonly boneAge?: StoredBoneAge | null }>(
  visits: readonly V[],
  xOf: (visit: V) => number | null,
): BoneAgePoint[] {
  const out: BoneAgePoint[] = [];
  for (const v of visits) {
    const b = v.boneAge;
    const x = xOf(v);
    if (!b || x === null || !Number.isFinite(x)) continue;
    const i = intervalOf(b);
    out.push({ imageId: v.imageId, x, years: b.months / 12, lowYears: i.low / 12, highYears: i.high / 12 });
  }
  return out.sort((a, b) => a.x - b.x);
}
