/**
 * The bone-age series of the patient's growth chart (renderer/features/pacs/growthChart.ts lists it among its
 * sources, so the study view's chart and the report's draw it alike): each hand-wrist visit's bone age in years
 * against age, on the chart's 'years' axis beside the CVM stages, and the ends of its interval as thin dashed
 * series. Structural types only (the chart module imports this one, not the other way round).
 */
import { boneAgeSeries, type StoredBoneAge } from '../../../core/boneage/index';

interface Visit {
  readonly imageId: number;
  readonly boneAge?: StoredBoneAge | null;
}

interface Series {
  readonly id: string;
  readonly label: string;
  readonly axis: 'years';
  readonly color: { readonly screen: string; readonly print: string };
  readonly dash?: readonly number[];
  readonly points: readonly { readonly x: number; readonly y: number | null; readonly current: boolean }[];
}

const COLOR = { screen: '#7ddc8a', print: '#1e7a34' } as const;

/** A growth-series source: bone age and its interval, in years, for the visits that have one. */
export function boneAgeGrowthSeries<V extends Visit>(
  timeline: { readonly visits: readonly V[] },
  x: (v: V) => number | null,
  currentImageId: number | null,
): Series[] {
  const points = boneAgeSeries(timeline.visits, x);
  if (points.length === 0) return [];
  const at = (y: (p: (typeof points)[number]) => number) =>
    points.map((p) => ({ x: p.x, y: y(p), current: p.imageId === currentImageId }));
  const level = timeline.visits.find((v) => v.boneAge)?.boneAge;
  const pct = level ? Math.round(('interval' in level ? level.interval.level : level.level) * 100) : 90;
  return [
    { id: 'bone-age', label: 'Bone age (hand-wrist)', axis: 'years', color: COLOR, points: at((p) => p.years) },
    {
      id: 'bone-age-high',
      label: `Bone age ${pct}%, upper`,
      axis: 'years',
      color: COLOR,
      dash: [2, 3],
      points: at((p) => p.highYears),
    },
    {
      id: 'bone-age-low',
      label: `Bone age ${pct}%, lower`,
      axis: 'years',
      color: COLOR,
      dash: [2, 3],
      points: at((p) => p.lowYears),
    },
  ];
}
