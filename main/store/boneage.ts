/**
 * Hand-wrist results in the store (migration 4): the recognised kind of each image, bone-age results
 * (append-only), and the sex entered by a user when the file has none (audited). Works on the Store's
 * connection (store.sql: timed statements, one IMMEDIATE transaction per write with its audit row).
 */
import type { BoneAgeRecord, RadiographKindView } from '../../core/api/boneage';
import type { ReviewState } from '../../core/api/studies';
import type { RadiographKind, Sex } from '../../core/boneage/index';
import { boneAgeApprovalSubject } from '../../core/review/boneage-approval';
import { now } from './connection';
import type { Store } from './store';

export function readKind(store: Store, imageId: number): RadiographKindView | null {
  const row = store.sql.get<{
    kind: RadiographKind;
    uncertain: number;
    probabilities_json: string;
    model_id: string;
    model_version: string;
    model_sha256: string;
  }>('SELECT * FROM radiograph_kinds WHERE image_ref = ?', imageId);
  if (!row) return null;
  return {
    kind: row.kind,
    uncertain: row.uncertain === 1,
    probabilities: JSON.parse(row.probabilities_json) as RadiographKindView['probabilities'],
    model: { id: row.model_id, version: row.model_version, sha256: row.model_sha256 },
  };
}

/** Records (or replaces, when a newer model ran) the kind of an image. */
export function writeKind(store: Store, imageId: number, kind: RadiographKindView): void {
  store.sql.write('record the radiograph kind', () => {
    store.imageRow(imageId);
    store.sql.run(
      `INSERT INTO radiograph_kinds (image_ref, kind, uncertain, probabilities_json, model_id, model_version, model_sha256, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(image_ref) DO UPDATE SET kind = excluded.kind, uncertain = excluded.uncertain,
      probabilities_json = excluded.probabilities_json, model_id = excluded.model_id, model_version = excluded.model_version,
      model_sha256 = excluded.model_sha256, created_at = excluded.created_at`,
      imageId,
      kind.kind,
      kind.uncertain ? 1 : 0,
      JSON.stringify(kind.probabilities),
      kind.model.id,
      kind.model.version,
      kind.model.sha256,
      now(),
    );
  });
}

interface BoneAgeRow {
  id: number;
  months: number;
  sd_months: number;
  low_months: number;
  high_months: number;
  level: number;
  sex: Sex;
  sex_source: string;
  members_json: string;
  model_id: string;
  model_version: string;
  model_sha256: string;
  created_at: string;
}

const recordOf = (r: BoneAgeRow): BoneAgeRecord => ({
  id: r.id,
  months: r.months,
  sdMonths: r.sd_months,
  interval: { low: r.low_months, high: r.high_months, level: r.level },
  sex: r.sex,
  sexSource: r.sex_source,
  members: JSON.parse(r.members_json) as number[],
  model: { id: r.model_id, version: r.model_version, sha256: r.model_sha256 },
  createdAt: r.created_at,
});

export function latestBoneAge(store: Store, imageId: number): BoneAgeRecord | null {
  const row = store.sql.get<BoneAgeRow>(
    'SELECT * FROM bone_age_results WHERE image_ref = ? ORDER BY id DESC LIMIT 1',
    imageId,
  );
  return row ? recordOf(row) : null;
}

/** The latest bone age of every image that has one (for CSV export and the timeline). */
export function latestBoneAges(store: Store): Map<number, BoneAgeRecord> {
  const rows = store.sql.all<BoneAgeRow & { image_id: number }>(
    `SELECT b.*, b.image_ref AS image_id FROM bone_age_results b
    JOIN (SELECT image_ref, MAX(id) AS id FROM bone_age_results GROUP BY image_ref) m ON m.id = b.id`,
  );
  return new Map(rows.map((r) => [r.image_id, recordOf(r)]));
}

export interface NewBoneAge {
  readonly months: number;
  readonly sdMonths: number;
  readonly low: number;
  readonly high: number;
  readonly level: number;
  readonly sex: Sex;
  readonly sexSource: string;
  readonly members: readonly number[];
  readonly model: { readonly id: string; readonly version: string; readonly sha256: string };
}

/**
 * An approval of a hand-wrist study is the approval of the bone age it showed: when a new estimate replaces it,
 * or the sex it was estimated for changes, the study goes back to review (audited, in the caller's transaction).
 */
function withdrawBoneAgeApproval(store: Store, imageId: number, author: string, why: string): boolean {
  const image = store.sql.get<{ review_status: string; reviewed_by: string | null }>(
    'SELECT review_status, reviewed_by FROM images WHERE id = ?',
    imageId,
  );
  if (!image || image.review_status !== 'approved') return false;
  store.sql.run(
    "UPDATE images SET review_status = 'in-progress', reviewed_by = NULL, reviewed_at = NULL WHERE id = ?",
    imageId,
  );
  store.sql.audit(
    author,
    'review',
    imageId,
    `review status approved -> in-progress: ${why}`,
    { status: image.review_status, by: image.reviewed_by },
    { status: 'in-progress', by: null, at: null },
  );
  return true;
}

/**
 * Approves a hand-wrist study: the review status and, in the same transaction, an audit row naming the bone-age
 * result approved (bone age, interval, sex, model). The approval rules are checked by the service.
 */
export function approveBoneAge(
  store: Store,
  imageId: number,
  result: BoneAgeRecord,
  author: string,
  confirmation?: string,
): ReviewState {
  return store.sql.write('approve the bone age', () => {
    const review = store.setReviewStatus(imageId, 'approved', author, confirmation);
    store.sql.audit(
      author,
      'bone-age-approval',
      imageId,
      `approved ${boneAgeApprovalSubject(result)} (result ${result.id}, ${result.model.id} ${result.model.version})`,
      null,
      {
        resultId: result.id,
        months: result.months,
        interval: result.interval,
        sex: result.sex,
        sexSource: result.sexSource,
        model: result.model,
      },
    );
    return review;
  });
}

/**
 * Enters the patient's sex (the file has none; Store.setPatientInfo audits it) and withdraws the approval of
 * every bone age of the study estimated for the other sex.
 */
export function enterSexForBoneAge(store: Store, imageId: number, sex: Sex, author: string): void {
  store.sql.write('save the patient’s sex', () => {
    store.setPatientInfo(imageId, { sex }, author);
    const study = store.imageRow(imageId).study_ref;
    const ids = store.sql.all<{ id: number }>('SELECT id FROM images WHERE study_ref = ?', study);
    for (const { id } of ids) {
      const latest = latestBoneAge(store, id);
      if (latest && latest.sex !== sex)
        withdrawBoneAgeApproval(
          store,
          id,
          author,
          `the sex changed to ${sex}; the bone age was estimated for ${latest.sex}`,
        );
    }
  });
}

export function recordBoneAge(store: Store, imageId: number, input: NewBoneAge, author: string): BoneAgeRecord {
  return store.sql.write('record the bone age', () => {
    store.imageRow(imageId);
    withdrawBoneAgeApproval(store, imageId, author, 'a new bone-age estimate replaced the approved one');
    const info = store.sql.run(
      `INSERT INTO bone_age_results (image_ref, months, sd_months, low_months, high_months, level, sex, sex_source,
      members_json, model_id, model_version, model_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      imageId,
      input.months,
      input.sdMonths,
      input.low,
      input.high,
      input.level,
      input.sex,
      input.sexSource,
      JSON.stringify(input.members),
      input.model.id,
      input.model.version,
      input.model.sha256,
      now(),
    );
    store.sql.audit(
      author,
      'bone-age',
      imageId,
      `bone age ${input.months.toFixed(1)} months (${input.model.id} ${input.model.version}, sex ${input.sex})`,
      null,
      { months: input.months, low: input.low, high: input.high, sex: input.sex },
    );
    const row = store.sql.getRequired<BoneAgeRow>(
      'bone-age result just inserted',
      'SELECT * FROM bone_age_results WHERE id = ?',
      Number(info.lastInsertRowid),
    );
    return recordOf(row);
  });
}

export interface BoneAgeOnlyRecord {
  readonly imageId: number;
  readonly originalName: string;
  readonly sha256: string;
  readonly patientId: string | null;
  readonly patientName: string | null;
  readonly sex: string | null;
  readonly studyDate: string | null;
  readonly ageYears: number | null;
  readonly reviewStatus: string;
  readonly reviewedBy: string | null;
}

/** The images among `imageIds` (those with a bone age) as export rows, approved ones only when asked. */
export function boneAgeOnlyRecords(
  store: Store,
  imageIds: ReadonlyMap<number, unknown>,
  approvedOnly: boolean,
): BoneAgeOnlyRecord[] {
  const rows: BoneAgeOnlyRecord[] = [];
  const sql = `SELECT i.id, i.original_name, i.sha256, i.review_status, i.reviewed_by, p.dicom_patient_id, p.name,
    COALESCE(p.sex, s.entered_sex) AS sex, s.study_date, s.age_years
    FROM images i JOIN studies s ON s.id = i.study_ref LEFT JOIN patients p ON p.id = s.patient_ref WHERE i.id = ?`;
  for (const id of [...imageIds.keys()].sort((a, b) => a - b)) {
    const r = store.sql.get<{
      id: number;
      original_name: string;
      sha256: string;
      review_status: string;
      reviewed_by: string | null;
      dicom_patient_id: string | null;
      name: string | null;
      sex: string | null;
      study_date: string | null;
      age_years: number | null;
    }>(sql, id);
    if (!r || (approvedOnly && r.review_status !== 'approved')) continue;
    rows.push({
      imageId: r.id,
      originalName: r.original_name,
      sha256: r.sha256,
      patientId: r.dicom_patient_id,
      patientName: r.name,
      sex: r.sex,
      studyDate: r.study_date,
      ageYears: r.age_years,
      reviewStatus: r.review_status,
      reviewedBy: r.reviewed_by,
    });
  }
  return rows;
}
