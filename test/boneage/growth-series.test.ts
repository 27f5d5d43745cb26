/** The bone-age series joins the patient's growth chart (study view and report) by registering itself. */
import { describe, expect, it } from 'vitest';
import type { TimelineVisitView } from '../../core/api/pacs';
import { growthChartConfig, growthSeries, PRINT_THEME } from '../../renderer/features/pacs/growthChart';
import '../../renderer/features/study/boneAgeChart';
import { timelineOf } from '../renderer/timeline-fixture';

const visit = (imageId: number, ageYears: number, stage: string | null, months: number | null): TimelineVisitView => ({
  imageId,
  studyDate: `${2005 + Math.floor(ageYears)}-01-01`,
  ageYears,
  stage,
  stageLabel: stage,
  reviewStatus: 'approved',
  pPeakPassed: stage ? 0.5 : null,
  probabilities: null,
  boneAge: months === null ? null : { months, low: months - 15, high: months + 15, level: 0.9, sex: 'F' },
});

describe('bone age on the growth chart', () => {
  it('draws the hand-wrist visits’ bone age in years against age, on a years axis beside the stages', () => {
    const t = timelineOf([visit(1, 11.5, 'CS3', null), visit(2, 12.5, null, 162), visit(3, 13.5, 'CS4', null)]);
    const series = growthSeries(t, 2);
    expect(series.map((s) => [s.id, s.axis])).toEqual([
      ['cvm-stage', 'stage'],
      ['p-peak-passed', 'probability'],
      ['bone-age', 'years'],
    ]);
    expect(series[2]!.points).toEqual([{ x: 12.5, y: 13.5, current: true }]);
    const config = growthChartConfig(series, PRINT_THEME, { byAge: true });
    expect(Object.keys(config.options!.scales!)).toEqual(['x', 'stage', 'probability', 'years']);
  });
});
