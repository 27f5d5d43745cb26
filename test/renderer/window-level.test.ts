import { describe, expect, it } from 'vitest';
import { applyWindow, windowLut } from '../../renderer/canvas/window-level';

describe('window/level', () => {
  it('maps values below the window to black, above to white, and the centre to mid grey', () => {
    const lut = windowLut({ center: 1000, width: 200, invert: false });
    expect(lut[0]).toBe(0);
    expect(lut[899]).toBe(0);
    expect(lut[1000]).toBeGreaterThanOrEqual(127);
    expect(lut[1000]).toBeLessThanOrEqual(129);
    expect(lut[1101]).toBe(255);
    expect(lut[65535]).toBe(255);
  });

  it('inverts when asked', () => {
    const lut = windowLut({ center: 1000, width: 200, invert: true });
    expect(lut[0]).toBe(255);
    expect(lut[65535]).toBe(0);
  });

  it('writes opaque grey RGBA pixels', () => {
    const lut = windowLut({ center: 32768, width: 65536, invert: false });
    const rgba = new Uint8ClampedArray(8);
    applyWindow(new Uint16Array([0, 65535]), lut, rgba);
    expect(Array.from(rgba)).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
  });
});
