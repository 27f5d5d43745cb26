/**
 * The 13 landmarks on C2-C4 (lower border of C2; C3 and C4 bodies), in canonical order.
 * Image coordinates in pixels, x towards the face (anterior), y down.
 */
import type { ImagePoint } from '../geometry/index';

export const LANDMARK_NAMES = [
  'C2p',
  'C2m',
  'C2a',
  'C3up',
  'C3lp',
  'C3m',
  'C3la',
  'C3ua',
  'C4up',
  'C4lp',
  'C4m',
  'C4la',
  'C4ua',
] as const;

export type LandmarkName = (typeof LANDMARK_NAMES)[number];
export type Vertebra = 'C2' | 'C3' | 'C4';
export type LandmarkRole =
  'lower-posterior' | 'lower-deepest' | 'lower-anterior' | 'upper-posterior' | 'upper-anterior';

export interface LandmarkInfo {
  readonly name: LandmarkName;
  readonly vertebra: Vertebra;
  readonly role: LandmarkRole;
  /** Plain-language description for tooltips and the guided placement. */
  readonly label: string;
}

const ROLE_LABEL: Record<LandmarkRole, string> = {
  'lower-posterior': 'lower border, posterior corner',
  'lower-deepest': 'lower border, deepest point of the concavity',
  'lower-anterior': 'lower border, anterior corner',
  'upper-posterior': 'upper border, posterior corner',
  'upper-anterior': 'upper border, anterior corner',
};

function info(name: LandmarkName, vertebra: Vertebra, role: LandmarkRole): LandmarkInfo {
  return { name, vertebra, role, label: `${vertebra} ${ROLE_LABEL[role]}` };
}

export const LANDMARKS: readonly LandmarkInfo[] = [
  info('C2p', 'C2', 'lower-posterior'),
  info('C2m', 'C2', 'lower-deepest'),
  info('C2a', 'C2', 'lower-anterior'),
  info('C3up', 'C3', 'upper-posterior'),
  info('C3lp', 'C3', 'lower-posterior'),
  info('C3m', 'C3', 'lower-deepest'),
  info('C3la', 'C3', 'lower-anterior'),
  info('C3ua', 'C3', 'upper-anterior'),
  info('C4up', 'C4', 'upper-posterior'),
  info('C4lp', 'C4', 'lower-posterior'),
  info('C4m', 'C4', 'lower-deepest'),
  info('C4la', 'C4', 'lower-anterior'),
  info('C4ua', 'C4', 'upper-anterior'),
];

export function landmarkInfo(name: LandmarkName): LandmarkInfo {
  const found = LANDMARKS.find((l) => l.name === name);
  if (!found) throw new Error(`unknown landmark ${name}`);
  return found;
}

export function isLandmarkName(value: string): value is LandmarkName {
  return (LANDMARK_NAMES as readonly string[]).includes(value);
}

/** A complete or partial set of landmark positions in image pixels. */
export type LandmarkSet = Partial<Record<LandmarkName, ImagePoint>>;
