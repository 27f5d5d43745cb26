import { describe, expect, it } from 'vitest';
import {
  confidenceLevel,
  DEFAULT_FLAG_MM,
  expectedErrorsOf,
  expectedErrorText,
} from '../../renderer/canvas/confidence';

describe('handle colours by expected error', () => {
  it('colours by the calibrated mm figure and the model flag, never by a raw peak', () => {
    expect(confidenceLevel(0.4, false, 0.96)).toBe('high');
    expect(confidenceLevel(0.8, false, 0.96)).toBe('medium');
    expect(confidenceLevel(0.96, false, 0.96)).toBe('low');
    expect(confidenceLevel(3, true, 0.96)).toBe('edited');
    expect(confidenceLevel(undefined, false)).toBe('unknown');
  });

  it('reads expected errors from a stored run, and nothing from an older run', () => {
    expect(expectedErrorsOf({ expectedErrorMm: { C3m: 1.2, C2p: 'x' }, flagMm: 0.96 })).toEqual({
      mm: { C3m: 1.2 },
      flagMm: 0.96,
    });
    // Unknown names and negative errors are not errors of this model's landmarks.
    expect(expectedErrorsOf({ expectedErrorMm: { C3m: 0.4, C9x: 1, C4m: -1 } }).mm).toEqual({ C3m: 0.4 });
    expect(expectedErrorsOf({ verdict: 'ok' })).toEqual({ mm: {}, flagMm: DEFAULT_FLAG_MM });
    expect(expectedErrorsOf(null)).toEqual({ mm: {}, flagMm: DEFAULT_FLAG_MM });
    expect(expectedErrorText(1.24, 0.96)).toBe('±1.2 mm, check');
    expect(expectedErrorText(0.51, 0.96)).toBe('±0.5 mm');
    expect(expectedErrorText(undefined, 0.96)).toBe('');
  });
});
