/**
 * The bone-age series of the patient's growth chart, registered with renderer/features/pacs/growthChart.ts's
 * `registerGrowthSeries` when this module is loaded (GrowthTimeline.tsx and report.ts import it), so the study
 * view's chart and the report's draw it alike: each hand-wrist visit's bone age in years
 * against age, on the chart's 'years' axis beside the CVM stages.
 */
import { boneAgeSeries, type StoredBoneAge } from '../../../core/boneage/index';
import { registerGrowthSeries } from '../pacs/growthChart';

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

/**
 * A growth-series source: bone age in years for the visits that have one. The interval is left to the visit
 * lists (one more series per bound crowded the side panel's small chart: its legend took the plot's height).
 */
export function boneAgeGrowthSeries<V extends Visit>(
  timeline: { readonly visits: readonly V[] },
  x: (v: V) => number | null,
  currentImageId: number | null,
): Series[] {
  const points = boneAgeSeries(timeline.visits, x);
  if (points.length === 0) return [];
  return [
    {
      id: 'bone-age',
      label: 'Bone age (hand-wrist)',
      axis: 'years',
      color: COLOR,
      points: points.map((p) => ({ x: p.x, y: p.years, current: p.imageId === currentImageId })),
    },
  ];
}

registerGrowthSeries((t, x, current) => boneAgeGrowthSeries(t, x, current));
