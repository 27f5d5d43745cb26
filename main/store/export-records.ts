/** The current landmarks of every study with its patient, stage and review, as the exports (CSV, cvm13) read them. */
import { inflateRawSync } from 'node:zlib';
import type { LandmarkPoints, LandmarkSetKind, ReviewStatus, StageSummary } from '../../core/api/studies';
import type { LandmarkName } from '../../core/landmarks/index';
import type { Connection } from './connection';
import {
  effectiveSpacingOf,
  equalPointNames,
  pointsFromJson,
  stageOfRow,
  type ImageRow,
  type StageColumns,
} from './rows';
import { STAGE_COLUMNS } from './stages';

export interface ExportRecord {
  readonly imageId: number;
  readonly studyId: number;
  readonly sha256: string;
  readonly storedPath: string;
  readonly originalName: string;
  readonly width: number;
  readonly height: number;
  readonly spacing: { rowMm: number; colMm: number; source: string } | null;
  readonly patientId: string | null;
  readonly patientName: string | null;
  readonly sex: string | null;
  readonly studyDate: string | null;
  readonly ageYears: number | null;
  readonly reviewStatus: ReviewStatus;
  readonly reviewedBy: string | null;
  readonly version: number;
  readonly versionKind: LandmarkSetKind;
  readonly author: string;
  readonly points: LandmarkPoints;
  readonly aiPoints: LandmarkPoints | null;
  /** Names whose position is a model's prediction nobody moved ("filled_from_prediction" in cvm13). */
  readonly fromPrediction: readonly LandmarkName[];
  readonly stage: StageSummary | null;
  readonly assessmentJson: string | null;
}

export class ExportRepository {
  constructor(private readonly sql: Connection) {}

  /** The current landmarks of every image that has some (optionally only approved ones), for export. */
  *records(options: { approvedOnly: boolean }): Generator<ExportRecord> {
    const sql = `
      SELECT i.*, st.id AS s_id, st.study_date, st.age_years, p.dicom_patient_id, p.name AS patient_name, COALESCE(p.sex, st.entered_sex) AS sex,
             ls.version AS l_version, ls.kind AS l_kind, ls.author AS l_author, ls.points_json AS l_points,
             ls.from_prediction_json AS l_from_prediction,
             ai.points_json AS ai_points, sa.assessment_deflated AS sr_assessment, ${STAGE_COLUMNS}
      FROM images i
      JOIN studies st ON st.id = i.study_ref
      LEFT JOIN patients p ON p.id = st.patient_ref
      JOIN landmark_sets ls ON ls.id = i.latest_set_ref
      LEFT JOIN landmark_sets ai ON ai.id = i.ai_set_ref
      LEFT JOIN stage_results sr ON sr.set_ref = i.latest_set_ref
      LEFT JOIN stage_assessments sa ON sa.set_ref = i.latest_set_ref
      ${options.approvedOnly ? "WHERE i.review_status = 'approved'" : ''}
      ORDER BY i.id`;
    type Row = ImageRow &
      StageColumns & {
        s_id: number;
        study_date: string | null;
        age_years: number | null;
        dicom_patient_id: string | null;
        patient_name: string | null;
        sex: string | null;
        l_version: number;
        l_kind: LandmarkSetKind;
        l_author: string;
        l_points: string;
        l_from_prediction: string | null;
        ai_points: string | null;
        sr_assessment: Buffer | null;
      };
    const rows = this.sql.read('read the studies for export', () => this.sql.all<Row>(sql));
    for (const r of rows) {
      const spacing = effectiveSpacingOf(r);
      yield {
        imageId: r.id,
        studyId: r.s_id,
        sha256: r.sha256,
        storedPath: r.stored_path,
        originalName: r.original_name,
        width: r.width,
        height: r.height,
        spacing: spacing ? { rowMm: spacing.rowMm, colMm: spacing.colMm, source: spacing.source } : null,
        patientId: r.dicom_patient_id,
        patientName: r.patient_name,
        sex: r.sex,
        studyDate: r.study_date,
        ageYears: r.age_years,
        reviewStatus: r.review_status,
        reviewedBy: r.reviewed_by,
        version: r.l_version,
        versionKind: r.l_kind,
        author: r.l_author,
        points: pointsFromJson(r.l_points),
        aiPoints: r.ai_points ? pointsFromJson(r.ai_points) : null,
        fromPrediction:
          r.l_from_prediction !== null
            ? (JSON.parse(r.l_from_prediction) as LandmarkName[])
            : equalPointNames(pointsFromJson(r.l_points), r.ai_points ? pointsFromJson(r.ai_points) : {}),
        stage: stageOfRow(r),
        assessmentJson: r.sr_assessment ? inflateRawSync(r.sr_assessment).toString('utf8') : null,
      };
    }
  }
}
