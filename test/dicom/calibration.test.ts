import { describe, expect, it } from 'vitest';
import { imagePoint } from '../../core/geometry/index';
import { MIN_CALIBRATION_PX, spacingFromKnownDistance, validateTypedSpacing } from '../../core/geometry/calibration';

describe('calibration from a known distance', () => {
  it('10 mm marked over 100 px horizontally gives 0.1 mm square pixels', () => {
    expect(spacingFromKnownDistance(imagePoint(10, 20), imagePoint(110, 20), 10)).toEqual({
      ok: true,
      value: { rowMm: 0.1, colMm: 0.1 },
    });
  });

  it('a diagonal mark gives the same spacing as its length implies', () => {
    const result = spacingFromKnownDistance(imagePoint(0, 0), imagePoint(300, 400), 50);
    expect(result.ok && result.value.colMm).toBeCloseTo(0.1, 12);
  });

  it('keeps the pixel shape of non-square pixels: a vertical mark then sets the row spacing', () => {
    const result = spacingFromKnownDistance(imagePoint(0, 0), imagePoint(0, 100), 20, 2);
    expect(result).toEqual({ ok: true, value: { rowMm: 0.2, colMm: 0.1 } });
  });

  it.each([
    [imagePoint(0, 0), imagePoint(MIN_CALIBRATION_PX - 1, 0), 5, /px apart; mark a distance of at least 50 px/],
    [imagePoint(0, 0), imagePoint(100, 0), 0, /known distance must be a positive number/],
    [imagePoint(0, 0), imagePoint(100, 0), -10, /known distance must be a positive number/],
    [imagePoint(0, 0), imagePoint(Number.NaN, 0), 10, /must be on the image/],
    [imagePoint(0, 0), imagePoint(100, 0), 500, /5 mm per pixel is implausible/],
  ])('refuses %o to %o for %f mm', (a, b, mm, message) => {
    const result = spacingFromKnownDistance(a, b, mm);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(message);
  });
});

describe('typed spacing', () => {
  it('one value means square pixels', () => {
    expect(validateTypedSpacing(0.1)).toEqual({ ok: true, value: { rowMm: 0.1, colMm: 0.1 } });
  });

  it.each([[0], [-0.1], [Number.NaN], [Number.POSITIVE_INFINITY], [0.001], [3]])('refuses %f mm', (mm) => {
    const result = validateTypedSpacing(mm);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('invalid-request');
  });
});
