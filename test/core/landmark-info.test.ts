import { describe, expect, it } from 'vitest';
import { LANDMARK_NAMES, LANDMARKS, landmarkInfo } from '../../core/landmarks/index';

describe('landmark table', () => {
  it('describes every landmark in canonical order by its vertebra and role', () => {
    expect(LANDMARKS.map((l) => l.name)).toEqual([...LANDMARK_NAMES]);
    expect(LANDMARKS.map((l) => `${l.vertebra} ${l.role}`)).toEqual([
      'C2 lower-posterior',
      'C2 lower-deepest',
      'C2 lower-anterior',
      'C3 upper-posterior',
      'C3 lower-posterior',
      'C3 lower-deepest',
      'C3 lower-anterior',
      'C3 upper-anterior',
      'C4 upper-posterior',
      'C4 lower-posterior',
      'C4 lower-deepest',
      'C4 lower-anterior',
      'C4 upper-anterior',
    ]);
    expect(landmarkInfo('C4m').label).toBe('C4 lower border, deepest point of the concavity');
    expect(landmarkInfo('C3ua').label).toBe('C3 upper border, anterior corner');
  });
});
