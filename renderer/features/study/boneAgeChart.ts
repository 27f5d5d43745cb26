/**
 * The bone-age series of a patient's growth chart (the seam renderer/features/pacs/GrowthTimeline.tsx uses):
 * each hand-wrist visit's bone age in years against the chart's x (age), its interval as a vertical bar, and
 * the line "bone age = chronological age" when x is age, on an axis of its own beside the CVM stages.
 */
import type { ChartDataset, ChartOptions } from 'chart.js';
import type { BoneAgePoint } from '../../../core/boneage/index';

export const BONE_AGE_AXIS = 'boneAge';
const COLOR = '#7ddc8a';

type Point = { x: number; y: number | null };

/** Chart.js datasets for the points (none when there are none). `byAge`: x is chronological age in years. */
export function boneAgeDatasets(
  points: readonly BoneAgePoint[],
  currentImageId: number,
  byAge: boolean,
): ChartDataset<'line', Point[]>[] {
  if (points.length === 0) return [];
  // interval bars: pairs of points at the same x, separated by gaps
  const bars: Point[] = points.flatMap((p) => [
    { x: p.x, y: p.lowYears },
    { x: p.x, y: p.highYears },
    { x: p.x, y: null },
  ]);
  const sets: ChartDataset<'line', Point[]>[] = [
    {
      label: 'Bone age (hand-wrist)',
      data: points.map((p) => ({ x: p.x, y: p.years })),
      yAxisID: BONE_AGE_AXIS,
      borderColor: COLOR,
      backgroundColor: COLOR,
      pointStyle: 'rectRot',
      pointRadius: points.map((p) => (p.imageId === currentImageId ? 7 : 5)),
      showLine: false,
    },
    {
      label: 'Bone age interval',
      data: bars,
      yAxisID: BONE_AGE_AXIS,
      borderColor: COLOR,
      borderWidth: 2,
      pointRadius: 0,
      spanGaps: false,
    },
  ];
  if (byAge) {
    const xs = points.map((p) => p.x);
    const lo = Math.floor(Math.min(...xs) - 0.5);
    const hi = Math.ceil(Math.max(...xs) + 0.5);
    sets.push({
      label: 'Bone age = age',
      data: [
        { x: lo, y: lo },
        { x: hi, y: hi },
      ],
      yAxisID: BONE_AGE_AXIS,
      borderColor: COLOR,
      borderDash: [2, 3],
      borderWidth: 1,
      pointRadius: 0,
    });
  }
  return sets;
}

/** The bone-age axis (years), right of the chart; range from the points and their intervals. */
export function boneAgeScale(points: readonly BoneAgePoint[]): NonNullable<ChartOptions<'line'>['scales']>[string] {
  const lo = Math.min(...points.map((p) => Math.min(p.lowYears, p.x)));
  const hi = Math.max(...points.map((p) => Math.max(p.highYears, p.x)));
  return {
    type: 'linear',
    position: 'right',
    min: Math.max(0, Math.floor(lo - 0.5)),
    max: Math.ceil(hi + 0.5),
    title: { display: true, text: 'bone age (years)', color: COLOR },
    ticks: { color: COLOR },
    grid: { display: false },
  };
}
