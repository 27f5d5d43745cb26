/**
 * The PACS as the renderer sees it: the connection setting (the secret goes in, never comes out), test,
 * search (QIDO-RS, paged), pull with progress and cancel, send status and sending of results, and a
 * patient's timeline across visits.
 */
import type { Timeline } from '../cvm/timeline';
import { s, type Infer } from './schema';

export const PACS_AUTH_KINDS = ['none', 'basic', 'bearer'] as const;

export interface PacsSettingsView {
  readonly url: string;
  readonly authKind: (typeof PACS_AUTH_KINDS)[number];
  readonly username: string;
  readonly caFile: string | null;
  readonly timeoutMs: number;
  readonly autoSendApproved: boolean;
  /** Whether a password or token is stored (it is never sent to the renderer). */
  readonly hasSecret: boolean;
  /** Where the secret is kept, in words. */
  readonly secretStorage: string;
}

export const setPacsSettingsRequest = s.object({
  url: s.string({ maxLength: 2000 }),
  authKind: s.literal(...PACS_AUTH_KINDS),
  username: s.string({ maxLength: 200 }),
  caFile: s.nullable(s.string({ maxLength: 4000 })),
  timeoutMs: s.number({ integer: true, min: 1000, max: 600_000 }),
  autoSendApproved: s.boolean(),
  /** A new password or token; undefined keeps the stored one, null or '' forgets it. */
  secret: s.optional(s.nullable(s.string({ maxLength: 4000 }))),
});
export type SetPacsSettingsRequest = Infer<typeof setPacsSettingsRequest>;

export type PacsTestResult =
  | { readonly ok: true; readonly url: string; readonly ms: number }
  | { readonly ok: false; readonly kind: string; readonly message: string };

const isoDate = s.string({ maxLength: 10 });
export const pacsSearchRequest = s.object({
  patientId: s.optional(s.string({ maxLength: 64 })),
  patientName: s.optional(s.string({ maxLength: 200 })),
  from: s.optional(isoDate),
  to: s.optional(isoDate),
  modality: s.optional(s.string({ maxLength: 16 })),
  offset: s.number({ integer: true, min: 0 }),
  limit: s.number({ integer: true, min: 1, max: 1000 }),
});
export type PacsSearchRequest = Infer<typeof pacsSearchRequest>;

/** A study as a QIDO-RS search describes it (main/pacs/client.ts adds what only the CLI shows). */
export interface PacsStudySummary {
  readonly studyInstanceUid: string;
  readonly patientId: string | null;
  readonly issuerOfPatientId: string | null;
  readonly patientName: string | null;
  readonly birthDate: string | null;
  readonly sex: string | null;
  readonly studyDate: string | null;
  readonly description: string | null;
  readonly modalities: readonly string[];
  readonly instances: number | null;
}

export interface PacsStudyRow extends PacsStudySummary {
  /** Instances of this study already in the local store. */
  readonly localInstances: number;
}

export interface PacsSearchResponse {
  readonly rows: readonly PacsStudyRow[];
  /** True when the server may hold more rows after this page. */
  readonly more: boolean;
  readonly ms: number;
}

/**
 * The size of the next page of a study search, `listed` rows in: a small first page (shown at once), then
 * pages twice as large as what is listed, up to `max`. A DICOMweb server matches every study for each request
 * whatever its offset and limit (Orthanc: about as long for an empty page as for a full one), so fewer, growing
 * pages list a long answer sooner than many equal ones, and the first rows still come quickly.
 */
export function nextPageSize(listed: number, first = 200, max = 1000): number {
  return Math.min(max, Math.max(first, listed * 2));
}

export const pacsPullRequest = s.object({ studyUids: s.array(s.string({ nonEmpty: true, maxLength: 64 }), 1000) });
export type PacsPullRequest = Infer<typeof pacsPullRequest>;
export const pacsCancelRequest = s.object({ pullId: s.string({ nonEmpty: true, maxLength: 64 }) });
export type PacsCancelRequest = Infer<typeof pacsCancelRequest>;

export interface PacsPullProgress {
  readonly pullId: string;
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
  readonly current: string | null;
}

export interface PacsPullDone {
  readonly pullId: string;
  readonly cancelled: boolean;
  readonly retrieved: number;
  readonly alreadyPresent: number;
  readonly skipped: number;
  readonly failed: number;
  /** Image ids of the studies pulled (retrieved or already present), for opening. */
  readonly imageIds: readonly number[];
  /** Of those, the hand-wrist radiographs the image classifier routed to bone age. */
  readonly boneAge?: readonly number[];
  /** One line per skipped or failed instance, and per study that could not be read. */
  readonly problems: readonly string[];
}

export const imageIdsRequest = s.object({ imageIds: s.array(s.number({ integer: true, positive: true }), 1000) });
export type ImageIdsRequest = Infer<typeof imageIdsRequest>;

export interface SendState {
  readonly imageId: number;
  readonly status: 'pending' | 'sent' | 'failed';
  readonly error: string | null;
  readonly attempts: number;
  readonly sentAt: string | null;
}

export interface SendResponse {
  readonly states: readonly SendState[];
  /** Images whose result could not be made into DICOM (e.g. a PNG source), one sentence each. */
  readonly problems: readonly string[];
}

export const timelineRequest = s.object({ imageId: s.number({ integer: true, positive: true }) });
export type TimelineRequest = Infer<typeof timelineRequest>;

export interface TimelineVisitView {
  readonly imageId: number;
  readonly studyDate: string | null;
  readonly ageYears: number | null;
  readonly stage: string | null;
  readonly stageLabel: string | null;
  readonly reviewStatus: string;
  readonly pPeakPassed: number | null;
  readonly probabilities: Readonly<Record<string, number>> | null;
  /** Bone age of a hand-wrist radiograph at this visit (months, interval), beside the CVM stages. */
  readonly boneAge?: VisitBoneAge | null;
}

/** The latest bone age of a visit's hand-wrist radiograph: months, its interval (level), and the sex it assumed. */
export interface VisitBoneAge {
  readonly months: number;
  readonly low: number;
  readonly high: number;
  readonly level: number;
  readonly sex: string;
}

export interface TimelineResponse {
  readonly patientId: string | null;
  readonly patientName: string | null;
  readonly visits: readonly TimelineVisitView[];
  readonly peak: Timeline['peak'] | null;
  readonly inconsistencies: readonly string[];
  readonly merged: readonly string[];
  readonly otherIssuers: readonly string[];
  /** Studies split off this patient (not on this timeline), each with its images for opening and rejoining. */
  readonly splitOff: readonly SplitStudyView[];
  /** Set when this timeline is one study split off a patient: whom it was split off (rejoin undoes it). */
  readonly splitFrom: (SplitStudyView & { readonly patientId: string; readonly patientName: string | null }) | null;
}

export interface SplitStudyView {
  readonly imageIds: readonly number[];
  readonly studyDate: string | null;
  readonly by: string;
  readonly at: string;
}

// Patient identity: merge two patient IDs that are one person, split a study off a patient; both
// audit-logged and reversible (split a merged patient off again, rejoin a split study).
export const listPatientsRequest = s.object({
  search: s.string({ maxLength: 200 }),
  limit: s.number({ integer: true, min: 1, max: 200 }),
});
export type ListPatientsRequest = Infer<typeof listPatientsRequest>;

export interface PatientListItem {
  readonly patientId: string;
  readonly name: string | null;
  readonly birthDate: string | null;
  readonly sex: string | null;
  readonly studies: number;
  /** The Patient ID this one is merged into (null: not merged). */
  readonly mergedInto: string | null;
  /** The patient's first stored image (its timeline opens from it); null without one. */
  readonly imageId?: number | null;
}

export const mergePatientsRequest = s.object({
  /** The patient kept as the timeline's identity. */
  patientId: s.string({ nonEmpty: true, maxLength: 64 }),
  /** The patient declared to be the same person. */
  otherPatientId: s.string({ nonEmpty: true, maxLength: 64 }),
});
export type MergePatientsRequest = Infer<typeof mergePatientsRequest>;
export const splitPatientRequest = s.object({ patientId: s.string({ nonEmpty: true, maxLength: 64 }) });
export type SplitPatientRequest = Infer<typeof splitPatientRequest>;

/** What a merge, split or rejoin did, in one sentence (also written to the audit log). */
export interface IdentityChange {
  readonly message: string;
}

/**
 * The one-page report as the app drew it (the PNG of the PNG/PDF report), for the result's DICOM Secondary
 * Capture: one rendering path for the three. It belongs to one landmark version and review state of the image:
 * main uses it only while the image's result is still that one.
 */
export const pacsReportPageRequest = s.object({
  imageId: s.number({ integer: true, positive: true }),
  /** The landmark version the page shows (StudyDetail.latest.versionId). */
  setId: s.number({ integer: true, positive: true }),
  /** The review the page shows (StudyDetail.review.status and .at). */
  reviewStatus: s.string({ nonEmpty: true, maxLength: 32 }),
  reviewAt: s.nullable(s.string({ maxLength: 40 })),
  /** The page as a PNG (8-bit grey, RGB or RGBA). */
  png: s.bytes(32 * 1024 * 1024),
});
export type PacsReportPageRequest = Infer<typeof pacsReportPageRequest>;

export interface PacsReportPageResponse {
  /** False when no PACS connection is saved: the page is not kept (nothing would send it). */
  readonly kept: boolean;
  readonly width: number;
  readonly height: number;
  /** True when storing the page queued the result for sending (an approved result, automatic sending on). */
  readonly sending: boolean;
}
