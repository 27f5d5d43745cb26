import { formatYearsMonths } from '../../core/metadata/age';
import type { Spacing } from '../../core/api/index';

export function formatSpacing(spacing: Spacing | null): string {
  if (!spacing) return 'uncalibrated';
  const same = Math.abs(spacing.rowMm - spacing.colMm) < 1e-9;
  const value = same ? `${fmt(spacing.colMm)} mm/px` : `${fmt(spacing.colMm)} x ${fmt(spacing.rowMm)} mm/px`;
  return `${value} (${spacing.source})`;
}

const fmt = (v: number): string => (v >= 0.01 ? v.toFixed(3) : v.toPrecision(3));

/** Age the way clinicians write it: "13 y 8 m" (completed years and months); "—" when unknown. */
export const formatAge = formatYearsMonths;

/** "1 study", "2 studies". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The execution provider in words, with why a faster one was not used, short: "CPU (CUDA not installed)".
 * The library's own message is kept for a details view, never shown as the headline.
 */
export function formatProvider(provider: string, fallbackReason: string | null | undefined): string {
  const name =
    provider === 'cpu' ? 'CPU' : provider === 'cuda' ? 'CUDA GPU' : provider === 'dml' ? 'DirectML GPU' : provider;
  if (!fallbackReason) return name;
  const wanted = /^\s*(cuda|dml)\b/i.exec(fallbackReason)?.[1]?.toLowerCase();
  const what = wanted === 'dml' ? 'DirectML' : 'CUDA';
  const why = /not installed|failed to load shared library|cannot open shared object|no such file/i.test(fallbackReason)
    ? 'not installed'
    : /no (cuda|gpu|device)|driver/i.test(fallbackReason)
      ? 'no GPU found'
      : 'unavailable';
  return `${name} (${what} ${why})`;
}

/** Replaces internal measurement ids ("C3.heightRatio") in engine text by their labels. */
export function humanizeIds(text: string, labels: ReadonlyMap<string, string>): string {
  return text.replace(/\b(C[234])\.([A-Za-z]+)\b/g, (whole) => labels.get(whole) ?? whole);
}

/** A problem list as one sentence each: no doubled stops, no "image.;". */
export function sentences(items: readonly string[]): string {
  return items
    .map((s) => s.trim().replace(/[.;:,\s]+$/, ''))
    .filter(Boolean)
    .map((s) => `${s}.`)
    .join(' ');
}
