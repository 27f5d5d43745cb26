import { describe, expect, it } from 'vitest';
import { ageInYears, dicomDateToIso } from '../../core/metadata/age';
import { readablePersonName } from '../../main/dicom/text';

describe('age at the study date', () => {
  it.each([
    ['2012-09-15', '2024-09-15', 12],
    ['2012-09-15', '2024-09-14', 11 + 365 / 366],
    ['2012-09-15', '2025-03-16', 12 + 182 / 365],
    ['2012-02-29', '2013-02-28', 1],
    ['2012-09-15', '2012-09-15', 0],
  ])('born %s, seen %s: %f years', (birth, study, years) => {
    expect(ageInYears(birth, study)).toBeCloseTo(years, 9);
  });

  it('is unknown when the study precedes birth or a date is invalid', () => {
    expect(ageInYears('2012-09-15', '2011-01-01')).toBeNull();
    expect(ageInYears('2012-02-30', '2020-01-01')).toBeNull();
  });

  it.each([
    ['20240315', '2024-03-15'],
    ['2024.03.15', '2024-03-15'],
    ['20240230', null],
    ['2024', null],
    ['', null],
  ])('DICOM date %s reads as %s', (da, iso) => {
    expect(dicomDateToIso(da)).toBe(iso);
  });
});

describe('person names', () => {
  it.each([
    ['Doe^Jane', 'Doe, Jane'],
    ['Doe^Jane^Ann^Dr.^Jr.', 'Dr. Doe, Jane Ann Jr.'],
    ['Doe', 'Doe'],
    ['^Jane', 'Jane'],
    ['Yamada^Tarou=山田^太郎=やまだ^たろう', 'Yamada, Tarou (山田, 太郎)'],
    ['=山田^太郎', '山田, 太郎'],
  ])('%s is shown as %s', (pn, readable) => {
    expect(readablePersonName(pn)).toBe(readable);
  });
});
