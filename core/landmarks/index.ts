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

/** The role of each name's suffix after the vertebra: C2p, C3up, C4m ... (the names say what they are). */
const ROLE_OF_SUFFIX: Readonly<Record<string, LandmarkRole>> = {
  p: 'lower-posterior',
  m: 'lower-deepest',
  a: 'lower-anterior',
  up: 'upper-posterior',
  lp: 'lower-posterior',
  la: 'lower-anterior',
  ua: 'upper-anterior',
};

function info(name: LandmarkName): LandmarkInfo {
  const vertebra = name.slice(0, 2) as Vertebra;
  const role = ROLE_OF_SUFFIX[name.slice(2)];
  if (!role) throw new Error(`no role for landmark ${name}`);
  return { name, vertebra, role, label: `${vertebra} ${ROLE_LABEL[role]}` };
}

export const LANDMARKS: readonly LandmarkInfo[] = LANDMARK_NAMES.map(info);

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
