import type { Spacing } from '../../core/api/index';

export function formatSpacing(spacing: Spacing | null): string {
  if (!spacing) return 'uncalibrated';
  const same = Math.abs(spacing.rowMm - spacing.colMm) < 1e-9;
  const value = same ? `${fmt(spacing.colMm)} mm/px` : `${fmt(spacing.colMm)} x ${fmt(spacing.rowMm)} mm/px`;
  return `${value} (${spacing.source})`;
}

const fmt = (v: number): string => (v >= 0.01 ? v.toFixed(3) : v.toPrecision(3));
