/** Patients, studies and images: the import of a file's record, image rows, and the patient data a user enters. */
import path from 'node:path';
import type { ImageInfo } from '../../core/api/image';
import { now, type Connection } from './connection';
import { StoreError } from './errors';
import type { ImageRow } from './rows';

export const IMAGES_DIR_NAME = 'images';

export interface NewImage {
  readonly sha256: string;
  /** Relative to the data folder. */
  readonly storedPath: string;
  readonly originalName: string;
  readonly byteSize: number;
  readonly info: ImageInfo;
  /** Spacing the user gave for a file without one (PNG/JPEG), stored as an 'entered' calibration. */
  readonly enteredSpacingMm?: number | null;
  readonly author: string;
}

/**
 * Why a stored path is not one this app writes (`images/<sha256>.<ext>`, relative, inside the data folder's
 * images folder), or null when it is fine.
 */
export function storedPathProblem(storedPath: unknown): string | null {
  if (typeof storedPath !== 'string' || storedPath.length === 0 || storedPath.length > 300) return 'is not a file name';
  if (storedPath.includes('\0') || storedPath.includes('\\')) return 'contains characters a stored path never has';
  if (path.posix.isAbsolute(storedPath) || path.win32.isAbsolute(storedPath))
    return 'is an absolute path outside the data folder';
  const parts = storedPath.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) return 'leaves the data folder';
  if (parts.length !== 2 || parts[0] !== IMAGES_DIR_NAME)
    return `is not inside the data folder's ${IMAGES_DIR_NAME} folder`;
  return null;
}

export class ImageRepository {
  constructor(private readonly sql: Connection) {}

  findBySha(sha256: string): { imageId: number; studyId: number } | null {
    const row = this.sql.read('look up an image', () =>
      this.sql.get<{ id: number; study_ref: number }>('SELECT id, study_ref FROM images WHERE sha256 = ?', sha256),
    );
    return row ? { imageId: row.id, studyId: row.study_ref } : null;
  }

  row(imageId: number): ImageRow {
    const row = this.sql.read('read an image', () =>
      this.sql.get<ImageRow>('SELECT * FROM images WHERE id = ?', imageId),
    );
    if (!row) throw new StoreError('not-found', 'not-found', `There is no image ${imageId} in ${this.sql.file}.`);
    return row;
  }

  /**
   * How the image was shown when it was imported, from its recorded information: turned by the file's orientation
   * tag (`turnedByTag`), and a page of a multi-page file chosen (`pageShown`), both recorded since 2026-12-04. False
   * for a file without such a tag or pages, and for every image imported before: shown as stored, its first page.
   */
  shownAtImport(imageId: number): { readonly turnedByTag: boolean; readonly pageShown: boolean } {
    const row = this.sql.read('read how an image was shown at import', () =>
      this.sql.get<{ turned: number; paged: number }>(
        `SELECT json_extract(info_json, '$.turnedByTag') IS NOT NULL AS turned,
                json_extract(info_json, '$.pageShown') IS NOT NULL AS paged
         FROM image_info WHERE image_ref = ?`,
        imageId,
      ),
    );
    return { turnedByTag: row?.turned === 1, pageShown: row?.paged === 1 };
  }

  /**
   * Inside the caller's write transaction: the patient (merged by DICOM patient id), the study (by Study
   * Instance UID) and the image of a file already in place, audited; an image with the same content hash is
   * returned as is.
   */
  insert(input: NewImage): { imageId: number; studyId: number; duplicate: boolean } {
    const existing = this.findBySha(input.sha256);
    if (existing) return { ...existing, duplicate: true };
    const t = now();
    const meta = input.info.meta;
    let patientRef: number | null = null;
    if (meta.patientId) {
      this.sql.run(
        `INSERT INTO patients (dicom_patient_id, name, sex, birth_date, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(dicom_patient_id) DO UPDATE SET name = COALESCE(patients.name, excluded.name),
           sex = COALESCE(patients.sex, excluded.sex), birth_date = COALESCE(patients.birth_date, excluded.birth_date)`,
        meta.patientId,
        meta.patientName,
        meta.sex,
        meta.birthDate,
        t,
      );
      patientRef = this.sql.getRequired<{ id: number }>(
        `patient ${meta.patientId} just inserted or updated`,
        'SELECT id FROM patients WHERE dicom_patient_id = ?',
        meta.patientId,
      ).id;
    }
    let studyRef = meta.studyInstanceUid
      ? this.sql.get<{ id: number }>('SELECT id FROM studies WHERE study_instance_uid = ?', meta.studyInstanceUid)?.id
      : undefined;
    if (studyRef === undefined) {
      studyRef = Number(
        this.sql.run(
          'INSERT INTO studies (patient_ref, study_instance_uid, study_date, description, age_years, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          patientRef,
          meta.studyInstanceUid,
          meta.studyDate,
          meta.studyDescription,
          meta.ageYears,
          t,
        ).lastInsertRowid,
      );
    }
    const spacing = input.info.spacing;
    const imageId = Number(
      this.sql.run(
        `INSERT INTO images (study_ref, sha256, stored_path, original_name, byte_size, format, width, height, frames,
         file_spacing_row_mm, file_spacing_col_mm, file_spacing_source, file_spacing_detail, imported_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        studyRef,
        input.sha256,
        input.storedPath,
        input.originalName,
        input.byteSize,
        input.info.format,
        input.info.width,
        input.info.height,
        input.info.frames,
        spacing?.rowMm ?? null,
        spacing?.colMm ?? null,
        spacing?.source ?? null,
        spacing?.detail ?? null,
        t,
        t,
      ).lastInsertRowid,
    );
    this.sql.run('INSERT INTO image_info (image_ref, info_json) VALUES (?, ?)', imageId, JSON.stringify(input.info));
    this.sql.audit(
      input.author,
      'import',
      imageId,
      `imported ${input.originalName} (${input.info.format}, ${input.info.width}x${input.info.height})`,
      undefined,
      { sha256: input.sha256, storedPath: input.storedPath, spacing },
    );
    return { imageId, studyId: studyRef, duplicate: false };
  }

  /** Age and sex typed by a user for a study whose file lacks them; a value the file carries is never replaced. */
  setPatientInfo(
    imageId: number,
    input: { ageYears?: number | null; sex?: 'M' | 'F' | 'O' | null },
    author: string,
  ): void {
    this.sql.write('save the patient data', () => {
      const image = this.row(imageId);
      const study = this.sql.getRequired<{
        id: number;
        age_years: number | null;
        age_entered: number;
        entered_sex: string | null;
        patient_sex: string | null;
      }>(
        `study ${image.study_ref} of image ${imageId}`,
        `SELECT st.id, st.age_years, st.age_entered, st.entered_sex, p.sex AS patient_sex
         FROM studies st LEFT JOIN patients p ON p.id = st.patient_ref WHERE st.id = ?`,
        image.study_ref,
      );
      const before = { ageYears: study.age_years, sex: study.patient_sex ?? study.entered_sex };
      if (input.ageYears !== undefined) {
        if (study.age_years !== null && study.age_entered === 0) {
          throw new StoreError('invalid-request', 'invalid', 'The age comes from the file and cannot be changed here.');
        }
        this.sql.run(
          'UPDATE studies SET age_years = ?, age_entered = ? WHERE id = ?',
          input.ageYears,
          input.ageYears === null ? 0 : 1,
          study.id,
        );
      }
      if (input.sex !== undefined) {
        if (study.patient_sex !== null)
          throw new StoreError('invalid-request', 'invalid', 'The sex comes from the file and cannot be changed here.');
        this.sql.run('UPDATE studies SET entered_sex = ? WHERE id = ?', input.sex, study.id);
      }
      const after = {
        ageYears: input.ageYears !== undefined ? input.ageYears : before.ageYears,
        sex: input.sex !== undefined ? input.sex : before.sex,
      };
      this.sql.audit(
        author,
        'patient-data',
        imageId,
        `entered ${[input.ageYears !== undefined ? `age ${after.ageYears === null ? 'cleared' : after.ageYears.toFixed(3)}` : '', input.sex !== undefined ? `sex ${after.sex ?? 'cleared'}` : ''].filter(Boolean).join(', ')}`,
        before,
        after,
      );
    });
  }
}
