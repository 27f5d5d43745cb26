/**
 * The growth chart's data: the series come from sources of the timeline, each against its own axis, for the
 * study view and the report alike; the bone-age source adds its series on a years axis, and a registered
 * source joins every chart.
 */
import { describe, expect, it } from 'vitest';
import type { TimelineResponse, TimelineVisitView } from '../../core/api/pacs';
import {
  growthChartConfig,
  growthSeries,
  PRINT_THEME,
  registerGrowthSeries,
  SCREEN_THEME,
} from '../../renderer/features/pacs/growthChart';
// registers the bone-age source, as the study view and the report do
import '../../renderer/features/study/boneAgeChart';
import { timelineOf } from './timeline-fixture';

const visit = (
  imageId: number,
  ageYears: number | null,
  stage: string | null,
  p: number | null,
): TimelineVisitView => ({
  imageId,
  studyDate: ageYears === null ? '2019-06-01' : `${2005 + Math.floor(ageYears)}-01-01`,
  ageYears,
  stage,
  stageLabel: stage,
  reviewStatus: 'approved',
  pPeakPassed: p,
  probabilities: null,
  boneAge: null,
});

const timeline = (visits: TimelineVisitView[]): TimelineResponse => timelineOf(visits, 'Growth, Chart');

describe('the growth chart series', () => {
  it('draws the stage and P(peak passed) against age, the viewed visit marked, undated visits left out', () => {
    const t = timeline([
      visit(1, 11.4, 'CS3', 0.2),
      visit(2, 13.5, 'CS5', 1),
      { ...visit(3, null, null, null), studyDate: null },
    ]);
    const series = growthSeries(t, 2);
    expect(series.map((s) => [s.id, s.axis])).toEqual([
      ['cvm-stage', 'stage'],
      ['p-peak-passed', 'probability'],
    ]);
    expect(series[0]!.points).toEqual([
      { x: 11.4, y: 3, current: false },
      { x: 13.5, y: 5, current: true },
    ]);
    const config = growthChartConfig(series, SCREEN_THEME, { byAge: true });
    expect(Object.keys(config.options!.scales!)).toEqual(['x', 'stage', 'probability']);
    expect(config.data.datasets.map((d) => d.pointRadius)).toEqual([
      [4, 6],
      [4, 6],
    ]);
  });

  it('leaves out a series without a single value (no stage yet: nothing drawn)', () => {
    expect(growthSeries(timeline([visit(1, 11, null, null), visit(2, 12, null, null)]), null)).toEqual([]);
  });

  it('a hand-wrist visit adds the bone-age series (its interval stays in the visit list) on a years axis on the right', () => {
    const withBoneAge = {
      ...visit(2, 13.5, null, null),
      boneAge: { months: 150, low: 138, high: 162, level: 0.9, sex: 'M' },
    };
    const series = growthSeries(timeline([visit(1, 11.4, 'CS3', 0.2), withBoneAge]), 1);
    expect(series.map((s) => s.id)).toEqual(['cvm-stage', 'p-peak-passed', 'bone-age']);
    expect(series[2]!.points).toEqual([{ x: 13.5, y: 12.5, current: false }]);
    const config = growthChartConfig(series, PRINT_THEME, { byAge: true });
    const years = config.options!.scales!.years as { position: string };
    expect(years.position).toBe('right');
  });

  it('a registered source is drawn by every chart, against the axis it names', () => {
    registerGrowthSeries((t, x, current) => [
      {
        id: 'height',
        label: 'height (test source)',
        axis: 'years',
        color: { screen: '#ffffff', print: '#123456' },
        points: t.visits.flatMap((v) => {
          const px = x(v);
          return px === null ? [] : [{ x: px, y: px + 1, current: v.imageId === current }];
        }),
      },
    ]);
    const series = growthSeries(timeline([visit(1, 11.4, 'CS3', 0.2), visit(2, 13.5, 'CS5', 1)]), 1);
    expect(series.map((s) => s.id)).toEqual(['cvm-stage', 'p-peak-passed', 'height']);
    const config = growthChartConfig(series, PRINT_THEME, { byAge: true });
    const years = config.options!.scales!.years as { position: string; min: number; max: number };
    expect([years.position, years.min, years.max]).toEqual(['right', 11, 15]);
    expect(config.data.datasets[2]!.borderColor).toBe('#123456');
  });
});
