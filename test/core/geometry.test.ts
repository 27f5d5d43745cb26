import { describe, expect, it } from 'vitest';
import { imagePoint, projectOntoLine, signedDistanceToLine } from '../../core/geometry/index';
import { rotate } from './synthetic-landmarks';

describe('geometry helpers', () => {
  it.each([
    [90, 0, 1],
    [180, -1, 0],
    [-90, 0, -1],
  ])('rotating (1, 0) by %i degrees about the origin gives (%i, %i)', (deg, x, y) => {
    const p = rotate(imagePoint(1, 0), (deg * Math.PI) / 180, imagePoint(0, 0));
    expect(p.x).toBeCloseTo(x, 12);
    expect(p.y).toBeCloseTo(y, 12);
  });

  it('rotates about the given centre, keeping the distance to it', () => {
    const centre = imagePoint(10, 20);
    const p = rotate(imagePoint(13, 24), 1.234, centre);
    expect(Math.hypot(p.x - 10, p.y - 20)).toBeCloseTo(5, 12);
  });

  it.each([
    [[5, 3], 0.5],
    [[0, -7], 0],
    [[15, 0], 1.5],
  ])('the point %j projects at %f along (0,0)->(10,0)', ([x, y], t) => {
    expect(projectOntoLine(imagePoint(x!, y!), imagePoint(0, 0), imagePoint(10, 0))).toBeCloseTo(t, 12);
  });

  it('in image coordinates (y down) a point below a left-to-right line lies at a positive signed distance, above at a negative one', () => {
    const a = imagePoint(0, 0);
    const b = imagePoint(10, 0);
    expect(signedDistanceToLine(imagePoint(3, 2), a, b)).toBeCloseTo(2, 12);
    expect(signedDistanceToLine(imagePoint(3, -2), a, b)).toBeCloseTo(-2, 12);
  });

  it('a line through two coincident points gives NaN, not a number pretending to be one', () => {
    const a = imagePoint(1, 1);
    expect(projectOntoLine(imagePoint(2, 2), a, a)).toBeNaN();
    expect(signedDistanceToLine(imagePoint(2, 2), a, a)).toBeNaN();
  });
});
