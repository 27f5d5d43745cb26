/**
 * A patient's visits from the store: every image of the patient (matched by Patient ID, and by issuer of
 * the ID where the PACS gave one), plus the patients the user merged into it. Same ID under different
 * issuers are different patients unless merged. Merge and split are audit-logged links, never rewrites.
 */
import { inflateRawSync } from 'node:zlib';
import type { VisitBoneAge } from '../../core/api/pacs';
import type { CvmStage } from '../../core/cvm/types';
import { buildTimeline, type Timeline, type TimelineVisitInput } from '../../core/cvm/timeline';
import { now } from '../store/connection';
import { StoreError } from '../store/errors';
import type { Store } from '../store/store';
import { probabilitiesOf } from './results';
import { latestBoneAges } from '../store/boneage';

export interface PatientRef {
  readonly id: number;
  readonly patientId: string;
  readonly name: string | null;
  readonly birthDate: string | null;
  readonly sex: string | null;
}

export interface PatientTimeline extends Timeline {
  readonly patient: PatientRef;
  /** Issuer of the Patient ID the visits were matched on (null: none given). */
  readonly issuer: string | null;
  /** Patients merged into this one. */
  readonly merged: readonly PatientRef[];
  /** Other issuers found under the same Patient ID (kept apart). */
  readonly otherIssuers: readonly string[];
  /** Studies split off this patient (or a merged one): not on this timeline; each can be rejoined. */
  readonly splitOff: readonly SplitStudy[];
  /** Set when the timeline is that of one study split off a patient: whom it was split off. */
  readonly splitFrom: (SplitStudy & { readonly patientId: string; readonly patientName: string | null }) | null;
  readonly visits: ReadonlyArray<
    Timeline['visits'][number] & {
      readonly studyInstanceUid: string | null;
      readonly stageLabel: string | null;
      readonly issuer: string | null;
      readonly patientId: string;
      /** The latest bone age of a hand-wrist radiograph of this visit (main/store/boneage.ts), null otherwise. */
      readonly boneAge: VisitBoneAge | null;
    }
  >;
}

/** A study split off the patient it was filed under (table study_splits, migration 10). */
export interface SplitStudy {
  readonly studyRef: number;
  /** The study's images (the first opens it). */
  readonly imageIds: readonly number[];
  readonly studyDate: string | null;
  readonly by: string;
  readonly at: string;
}

function dicomIdOf(store: Store, patientRef: number): string {
  return store.sql.getRequired<{ dicom_patient_id: string }>(
    `patient ${patientRef}`,
    'SELECT dicom_patient_id FROM patients WHERE id = ?',
    patientRef,
  ).dicom_patient_id;
}

function patientByDicomId(store: Store, patientId: string): PatientRef {
  const row = store.sql.get<{
    id: number;
    dicom_patient_id: string;
    name: string | null;
    birth_date: string | null;
    sex: string | null;
  }>('SELECT id, dicom_patient_id, name, birth_date, sex FROM patients WHERE dicom_patient_id = ?', patientId);
  if (!row) throw new StoreError('not-found', 'not-found', `No patient with ID "${patientId}" in ${store.file}.`);
  return { id: row.id, patientId: row.dicom_patient_id, name: row.name, birthDate: row.birth_date, sex: row.sex };
}

/** The patient a merged one belongs to (itself when not merged). */
function rootOf(store: Store, patientRef: number): number {
  let current = patientRef;
  for (let i = 0; i < 100; i++) {
    const link = store.sql.get<{ same_as_ref: number }>(
      'SELECT same_as_ref FROM patient_links WHERE patient_ref = ?',
      current,
    );
    if (!link) return current;
    current = link.same_as_ref;
  }
  return current;
}

function membersOf(store: Store, root: number): number[] {
  const out = [root];
  // The loop also visits the members pushed while it runs (an array iterator reads the length at each step).
  for (const member of out) {
    const rows = store.sql.all<{ patient_ref: number }>(
      'SELECT patient_ref FROM patient_links WHERE same_as_ref = ?',
      member,
    );
    for (const r of rows) if (!out.includes(r.patient_ref)) out.push(r.patient_ref);
  }
  return out;
}

/** A patient's timeline, read in one snapshot. */
export function patientTimeline(
  store: Store,
  patientId: string,
  options: { issuer?: string | null } = {},
): PatientTimeline {
  return store.sql.read('read a patient timeline', () => readPatientTimeline(store, patientId, options));
}

function readPatientTimeline(store: Store, patientId: string, options: { issuer?: string | null }): PatientTimeline {
  const asked = patientByDicomId(store, patientId);
  const rootRef = rootOf(store, asked.id);
  const members = membersOf(store, rootRef);
  const refs = members.map((id) =>
    store.sql.getRequired<PatientRef>(
      `patient ${id}`,
      'SELECT id, dicom_patient_id AS patientId, name, birth_date AS birthDate, sex FROM patients WHERE id = ?',
      id,
    ),
  );
  const placeholders = members.map(() => '?').join(',');
  const rows = store.sql.all<VisitRow>(
    `
    SELECT i.id AS imageId, st.study_date AS studyDate, st.age_years AS ageYears, st.study_instance_uid AS studyInstanceUid,
           sr.stage AS stage, sr.label AS stageLabel, i.review_status AS reviewStatus, i.latest_set_ref AS setRef,
           (SELECT pi.issuer_of_patient_id FROM pacs_instances pi WHERE pi.image_ref = i.id LIMIT 1) AS issuer, p.dicom_patient_id AS patientId
    FROM images i JOIN studies st ON st.id = i.study_ref JOIN patients p ON p.id = st.patient_ref
    LEFT JOIN stage_results sr ON sr.set_ref = i.latest_set_ref
    WHERE st.patient_ref IN (${placeholders}) AND NOT EXISTS (SELECT 1 FROM study_splits ss WHERE ss.study_ref = st.id)`,
    ...members,
  );
  // The issuer: the one asked for, else the asked patient's most common one; other issuers of the same ID stay apart.
  const ownIssuers = rows.flatMap((r) => (r.patientId === asked.patientId && r.issuer ? [r.issuer] : []));
  const issuer =
    options.issuer !== undefined
      ? options.issuer
      : (ownIssuers.sort(
          (a, b) => ownIssuers.filter((x) => x === b).length - ownIssuers.filter((x) => x === a).length,
        )[0] ?? null);
  const kept = rows.filter(
    (r) => r.patientId !== asked.patientId || r.issuer === null || issuer === null || r.issuer === issuer,
  );
  const otherIssuers = [
    ...new Set(
      rows.flatMap((r) => (r.patientId === asked.patientId && r.issuer && r.issuer !== issuer ? [r.issuer] : [])),
    ),
  ];
  const inputs = kept;
  const root = refs.find((r) => r.id === rootRef);
  if (!root) throw new Error(`patientTimeline: patient ${rootRef} is missing from its own members`);
  const splitOff = store.sql
    .all<{ studyRef: number }>(
      `SELECT study_ref AS studyRef FROM study_splits WHERE patient_ref IN (${placeholders}) ORDER BY split_at`,
      ...members,
    )
    .map((r) => requiredSplit(store, r.studyRef));
  return {
    ...visitsOf(store, inputs),
    patient: root,
    issuer,
    merged: refs.filter((r) => r.id !== rootRef),
    otherIssuers,
    splitOff,
    splitFrom: null,
  };
}

interface VisitRow {
  imageId: number;
  studyDate: string | null;
  ageYears: number | null;
  studyInstanceUid: string | null;
  stage: CvmStage | null;
  stageLabel: string | null;
  reviewStatus: string;
  setRef: number | null;
  issuer: string | null;
  patientId: string;
}

/** The timeline of visit rows: probabilities from the stored assessments, bone ages beside. */
function visitsOf(store: Store, kept: readonly VisitRow[]): Timeline & { visits: PatientTimeline['visits'] } {
  const inputs = kept.map((r) => {
    let probabilities = null;
    if (r.setRef !== null) {
      const a = store.sql.get<{ assessment_deflated: Buffer }>(
        'SELECT assessment_deflated FROM stage_assessments WHERE set_ref = ?',
        r.setRef,
      );
      if (a) probabilities = probabilitiesOf(JSON.parse(inflateRawSync(a.assessment_deflated).toString('utf8')));
    }
    return { ...r, probabilities } satisfies TimelineVisitInput & Record<string, unknown>;
  });
  const timeline = buildTimeline(inputs);
  const byId = new Map(inputs.map((i) => [i.imageId, i]));
  const boneAges = latestBoneAges(store);
  return {
    ...timeline,
    visits: timeline.visits.map((v) => {
      const i = byId.get(v.imageId);
      if (!i) throw new Error(`visitsOf: visit image ${v.imageId} is not among the timeline's inputs`);
      const b = boneAges.get(v.imageId);
      const boneAge = b
        ? { months: b.months, low: b.interval.low, high: b.interval.high, level: b.interval.level, sex: b.sex }
        : null;
      return {
        ...v,
        studyInstanceUid: i.studyInstanceUid,
        stageLabel: i.stageLabel,
        issuer: i.issuer,
        patientId: i.patientId,
        boneAge,
      };
    }),
  };
}

/** A split the caller knows is recorded (listed in study_splits, or just inserted). */
function requiredSplit(store: Store, studyRef: number): SplitStudy {
  const split = splitStudy(store, studyRef);
  if (!split)
    throw new StoreError('storage', 'corrupt', `The split of study ${studyRef} is missing from ${store.file}.`);
  return split;
}

function splitStudy(store: Store, studyRef: number): SplitStudy | null {
  const row = store.sql.get<Omit<SplitStudy, 'imageIds'>>(
    `SELECT ss.study_ref AS studyRef, ss.split_by AS by, ss.split_at AS at, st.study_date AS studyDate
       FROM study_splits ss JOIN studies st ON st.id = ss.study_ref WHERE ss.study_ref = ?`,
    studyRef,
  );
  if (!row) return null;
  const imageIds = store.sql
    .all<{ id: number }>('SELECT id FROM images WHERE study_ref = ? ORDER BY id', studyRef)
    .map((r) => r.id);
  return { ...row, imageIds };
}

function studyOfImage(store: Store, imageId: number): { studyRef: number; patientRef: number | null } {
  const row = store.sql.get<{ studyRef: number; patientRef: number | null }>(
    'SELECT i.study_ref AS studyRef, st.patient_ref AS patientRef FROM images i JOIN studies st ON st.id = i.study_ref WHERE i.id = ?',
    imageId,
  );
  if (!row) throw new StoreError('not-found', 'not-found', `There is no image ${imageId}.`);
  return row;
}

/**
 * The timeline an image belongs on: its patient's (with merged patients), or, for a study split off its
 * patient, that study alone (with whom it was split off, for rejoining). Null when the image has no Patient ID.
 */
export function timelineOfImage(store: Store, imageId: number): PatientTimeline | null {
  return store.sql.read('read the timeline of an image', () => readTimelineOfImage(store, imageId));
}

function readTimelineOfImage(store: Store, imageId: number): PatientTimeline | null {
  const { studyRef } = studyOfImage(store, imageId);
  const split = splitStudy(store, studyRef);
  if (!split) {
    const pid = store.sql.get<{ dicom_patient_id: string }>(
      'SELECT p.dicom_patient_id FROM images i JOIN studies st ON st.id = i.study_ref JOIN patients p ON p.id = st.patient_ref WHERE i.id = ?',
      imageId,
    )?.dicom_patient_id;
    return pid === undefined ? null : patientTimeline(store, pid);
  }
  const from = store.sql.getRequired<PatientRef>(
    `the patient study ${studyRef} was split off`,
    'SELECT p.id, p.dicom_patient_id AS patientId, p.name, p.birth_date AS birthDate, p.sex FROM study_splits ss JOIN patients p ON p.id = ss.patient_ref WHERE ss.study_ref = ?',
    studyRef,
  );
  const rows = store.sql.all<VisitRow>(
    `
    SELECT i.id AS imageId, st.study_date AS studyDate, st.age_years AS ageYears, st.study_instance_uid AS studyInstanceUid,
           sr.stage AS stage, sr.label AS stageLabel, i.review_status AS reviewStatus, i.latest_set_ref AS setRef,
           (SELECT pi.issuer_of_patient_id FROM pacs_instances pi WHERE pi.image_ref = i.id LIMIT 1) AS issuer, ? AS patientId
    FROM images i JOIN studies st ON st.id = i.study_ref
    LEFT JOIN stage_results sr ON sr.set_ref = i.latest_set_ref
    WHERE st.id = ?`,
    from.patientId,
    studyRef,
  );
  return {
    ...visitsOf(store, rows),
    patient: from,
    issuer: rows.find((r) => r.issuer)?.issuer ?? null,
    merged: [],
    otherIssuers: [],
    splitOff: [],
    splitFrom: { ...split, patientId: from.patientId, patientName: from.name },
  };
}

/**
 * Declares the study of `imageId` to be of another person than the patient it is filed under: it leaves that
 * patient's timeline (and those merged with it) and stands alone. Audit-logged; `rejoinStudy` undoes it.
 */
export function splitStudyOff(store: Store, imageId: number, author: string): SplitStudy {
  const { studyRef, patientRef } = studyOfImage(store, imageId);
  if (patientRef === null)
    throw new StoreError('invalid-request', 'invalid', `Image ${imageId} has no patient to split it off.`);
  if (splitStudy(store, studyRef))
    throw new StoreError('conflict', 'conflict', `The study of image ${imageId} is already split off its patient.`);
  const patient = dicomIdOf(store, patientRef);
  store.sql.write('split a study off its patient', () => {
    store.sql.run(
      'INSERT INTO study_splits (study_ref, patient_ref, split_by, split_at) VALUES (?, ?, ?, ?)',
      studyRef,
      patientRef,
      author,
      now(),
    );
    store.sql.audit(author, 'study-split', imageId, `study ${studyRef} split off patient ${patient}`);
  });
  return requiredSplit(store, studyRef);
}

/** Undoes `splitStudyOff`: the study is back on its patient's timeline. Audit-logged. */
export function rejoinStudy(store: Store, imageId: number, author: string): void {
  const { studyRef } = studyOfImage(store, imageId);
  const split = store.sql.get<{ patient_ref: number }>(
    'SELECT patient_ref FROM study_splits WHERE study_ref = ?',
    studyRef,
  );
  if (!split)
    throw new StoreError('not-found', 'not-found', `The study of image ${imageId} is not split off a patient.`);
  const patient = dicomIdOf(store, split.patient_ref);
  store.sql.write('rejoin a study to its patient', () => {
    store.sql.run('DELETE FROM study_splits WHERE study_ref = ?', studyRef);
    store.sql.audit(author, 'study-rejoin', imageId, `study ${studyRef} rejoined patient ${patient}`);
  });
}

export interface PatientListRow extends PatientRef {
  readonly studies: number;
  /** The Patient ID this one is merged into (null: not merged). */
  readonly mergedInto: string | null;
  /** The patient's first stored image (null without one). */
  readonly imageId: number | null;
}

/** Local patients whose ID or name contains `search` (case-insensitive), for choosing whom to merge. */
export function listPatients(store: Store, search: string, limit: number): PatientListRow[] {
  const like = `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return store.sql.read('list patients', () =>
    store.sql.all<PatientListRow>(
      `SELECT p.id, p.dicom_patient_id AS patientId, p.name, p.birth_date AS birthDate, p.sex,
              (SELECT COUNT(*) FROM studies st WHERE st.patient_ref = p.id) AS studies,
              (SELECT q.dicom_patient_id FROM patient_links l JOIN patients q ON q.id = l.same_as_ref WHERE l.patient_ref = p.id) AS mergedInto,
              (SELECT MIN(i.id) FROM images i JOIN studies st ON st.id = i.study_ref WHERE st.patient_ref = p.id) AS imageId
       FROM patients p
       WHERE lower(p.dicom_patient_id) LIKE ? ESCAPE '\\' OR lower(COALESCE(p.name, '')) LIKE ? ESCAPE '\\'
       ORDER BY p.dicom_patient_id LIMIT ?`,
      like,
      like,
      limit,
    ),
  );
}

/** Declares `otherPatientId` to be the same person as `patientId` (their visits share one timeline). */
export function mergePatients(store: Store, patientId: string, otherPatientId: string, author: string): void {
  const a = patientByDicomId(store, patientId);
  const b = patientByDicomId(store, otherPatientId);
  if (rootOf(store, a.id) === rootOf(store, b.id))
    throw new StoreError('conflict', 'conflict', `${patientId} and ${otherPatientId} are already one patient.`);
  store.sql.write('merge two patients', () => {
    store.sql.run(
      'INSERT INTO patient_links (patient_ref, same_as_ref, linked_by, linked_at) VALUES (?, ?, ?, ?)',
      rootOf(store, b.id),
      rootOf(store, a.id),
      author,
      now(),
    );
    store.sql.audit(author, 'patient-merge', null, `patient ${otherPatientId} merged into ${patientId}`);
  });
}

/** Undoes a merge: `patientId` gets its own timeline again. */
export function splitPatient(store: Store, patientId: string, author: string): void {
  const p = patientByDicomId(store, patientId);
  const link = store.sql.get<{ same_as_ref: number }>(
    'SELECT same_as_ref FROM patient_links WHERE patient_ref = ?',
    p.id,
  );
  if (!link) throw new StoreError('not-found', 'not-found', `Patient ${patientId} is not merged into another.`);
  store.sql.write('split a patient off', () => {
    store.sql.run('DELETE FROM patient_links WHERE patient_ref = ?', p.id);
    store.sql.audit(author, 'patient-split', null, `patient ${patientId} split off`);
  });
}
