/** Hand-wrist radiographs in the app: the recognised kind of an image and its bone age (main/services/boneage.ts). */
import type { AgeComparison, RadiographKind, Sex } from '../boneage/index';
import { s, type Infer } from './schema';

const imageId = s.number({ integer: true, positive: true });

export interface RadiographKindView {
  readonly kind: RadiographKind;
  readonly uncertain: boolean;
  readonly probabilities: Readonly<Record<RadiographKind, number>>;
  readonly model: { readonly id: string; readonly version: string; readonly sha256: string };
}

export interface BoneAgeRecord {
  readonly id: number;
  readonly months: number;
  readonly sdMonths: number;
  readonly interval: { readonly low: number; readonly high: number; readonly level: number };
  readonly sex: Sex;
  /** Where the sex came from: "DICOM PatientSex" or "entered by <user>". */
  readonly sexSource: string;
  readonly members: readonly number[];
  readonly model: { readonly id: string; readonly version: string; readonly sha256: string };
  readonly createdAt: string;
}

export interface BoneAgeView {
  readonly imageId: number;
  /** null when no radiograph-kind model is installed. */
  readonly kind: RadiographKindView | null;
  /** The file's PatientSex, else the sex entered in the app, else null. */
  readonly sex: Sex | null;
  readonly sexSource: 'file' | 'entered' | null;
  /** True when the file has no PatientSex: the user may enter (and change) it, audited. */
  readonly sexEditable: boolean;
  readonly chronologicalAgeYears: number | null;
  /** The latest bone-age result, null before the first estimate. */
  readonly latest: BoneAgeRecord | null;
  /** The latest result against chronological age (null without a result or an age). */
  readonly comparison: AgeComparison | null;
  /** Model card lines for the panel: data, resolution, validation. */
  readonly modelCard: readonly string[];
}

export const boneAgeRequest = s.object({ imageId });
export type BoneAgeRequest = Infer<typeof boneAgeRequest>;

export const setPatientSexRequest = s.object({ imageId, sex: s.literal('M', 'F') });
export type SetPatientSexRequest = Infer<typeof setPatientSexRequest>;
