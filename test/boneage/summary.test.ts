/** Bone age in words and as a growth-chart series (core/boneage/summary.ts). */
import { describe, expect, it } from 'vitest';
import { boneAgeSeries, boneAgeText, compareWithAge, comparisonText } from '../../core/boneage/index';

describe('bone age beside the CVM stages', () => {
  it('writes a stored result in years and months with its interval, in either stored shape', () => {
    const nested = { months: 136, interval: { low: 121.4, high: 150.6, level: 0.9 }, sex: 'F' };
    const flat = { months: 136, low: 121.4, high: 150.6, level: 0.9, sex: 'F' };
    expect(boneAgeText(nested)).toBe('11 y 4 mo (90% 10 y 1 mo – 12 y 7 mo)');
    expect(boneAgeText(flat)).toBe(boneAgeText(nested));
  });

  it('compares with chronological age in months and reference SDs for the sex, naming the reference', () => {
    const c = compareWithAge(150, 11, 'M')!;
    expect(c.differenceMonths).toBeCloseTo(18, 6);
    expect(c.sdScore).toBeCloseTo(18 / 13.32, 6);
    expect(comparisonText(c, 'M')).toMatch(
      /^Chronological age 11 y 0 mo: bone age \+18 months \(\+1\.4 SD for boys; reference: SD of bone age minus chronological age.*Alcina/,
    );
    expect(compareWithAge(150, null, 'M')).toBeNull();
    expect(compareWithAge(150, -1, 'F')).toBeNull();
  });

  it('places the hand-wrist visits of a timeline on the chart, sorted by x, in years', () => {
    const visits = [
      { imageId: 3, age: 12.5, boneAge: { months: 156, low: 140, high: 172, level: 0.9, sex: 'F' } },
      { imageId: 1, age: 10, boneAge: null },
      { imageId: 2, age: 11, boneAge: { months: 126, low: 111, high: 141, level: 0.9, sex: 'F' } },
      { imageId: 4, age: null, boneAge: { months: 100, low: 90, high: 110, level: 0.9, sex: 'F' } },
    ];
    const series = boneAgeSeries(visits, (v) => v.age);
    expect(series.map((p) => p.imageId)).toEqual([2, 3]);
    expect(series[0]).toEqual({ imageId: 2, x: 11, years: 10.5, lowYears: 111 / 12, highYears: 141 / 12 });
  });
});
