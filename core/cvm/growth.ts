/** Expected timing of the peak in mandibular growth for each stage (McNamara & Franchi 2018), for the orthodontist. */
import type { CvmStage } from './types';

export const PEAK_GROWTH: Record<CvmStage, string> = {
  CS1: 'Prepubertal: the peak in mandibular growth is expected at least two years from now.',
  CS2: 'Prepubertal: the peak in mandibular growth is expected in about one year.',
  CS3: 'Circumpubertal: the peak in mandibular growth is expected within the coming year; a good time to start functional treatment.',
  CS4: 'Circumpubertal: the peak in mandibular growth occurred within the past one to two years; some growth remains.',
  CS5: 'Postpubertal: the peak in mandibular growth ended at least one year ago.',
  CS6: 'Postpubertal: the peak in mandibular growth ended at least two years ago.',
};

/**
 * Where the pubertal peak in mandibular growth lies for a spine at each stage, as shares of three plain answers,
 * from the timing above: CS1 (at least two years ahead) ahead; CS2 (about one year ahead) on the edge, half ahead
 * and half within about a year; CS3 (within the coming year) within; CS4 (1-2 years ago), CS5 and CS6 past.
 */
export const PEAK_TIMING: Record<
  CvmStage,
  { readonly ahead: number; readonly withinYear: number; readonly past: number }
> = {
  CS1: { ahead: 1, withinYear: 0, past: 0 },
  CS2: { ahead: 0.5, withinYear: 0.5, past: 0 },
  CS3: { ahead: 0, withinYear: 1, past: 0 },
  CS4: { ahead: 0, withinYear: 0, past: 1 },
  CS5: { ahead: 0, withinYear: 0, past: 1 },
  CS6: { ahead: 0, withinYear: 0, past: 1 },
};

/**
 * Typical chronological ages (years) at each stage for girls; boys reach each stage about one year later.
 * Approximate ranges from CVM-age correlation studies (mean ages at CS1-CS6 of about 8-9, 10, 11, 12, 13.5 and 15+
 * years in girls); individual timing varies by several years, so these only prompt a second look.
 */
export const TYPICAL_AGE_GIRLS: Record<CvmStage, readonly [number, number]> = {
  CS1: [6, 10],
  CS2: [8, 11],
  CS3: [9, 12],
  CS4: [10, 13],
  CS5: [11.5, 15],
  CS6: [13, Infinity],
};

/** Typical age range for a stage and sex ('M', 'F', anything else: both). */
export function typicalAge(stage: CvmStage, sex: string | null | undefined): readonly [number, number] {
  const [lo, hi] = TYPICAL_AGE_GIRLS[stage];
  if (sex === 'F') return [lo, hi];
  if (sex === 'M') return [lo + 1, hi + 1];
  return [lo, hi + 1];
}
