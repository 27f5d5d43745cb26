/** The worklist query: filters, search, sort and paging as one parameterised SQL statement. */
import type { ListStudiesRequest, StudySortField } from '../../core/api/studies';

const SORT_COLUMN: Record<StudySortField, string> = {
  updatedAt: 'i.updated_at',
  importedAt: 'i.imported_at',
  patientName: 'p.name',
  patientId: 'p.dicom_patient_id',
  studyDate: 'st.study_date',
  ageYears: 'st.age_years',
  stage: 'sr.stage',
  reviewStatus: 'i.review_status',
  minConfidence: 'i.min_confidence',
  fileName: 'i.original_name',
};

/** Columns declared NOT NULL: sorting them needs no nulls-last term (which would keep SQLite off the index). */
const NEVER_NULL = new Set<StudySortField>(['updatedAt', 'importedAt', 'reviewStatus', 'fileName']);

const JOIN_PATIENT = 'LEFT JOIN patients p ON p.id = st.patient_ref';
const JOIN_STAGE = 'LEFT JOIN stage_results sr ON sr.set_ref = i.latest_set_ref';
const FROM = `FROM images i JOIN studies st ON st.id = i.study_ref ${JOIN_PATIENT} ${JOIN_STAGE}`;

const COLUMNS = `
  i.id AS imageId, st.id AS studyId, p.name AS patientName, p.dicom_patient_id AS patientId, COALESCE(p.sex, st.entered_sex) AS sex,
  st.study_date AS studyDate, st.age_years AS ageYears, sr.label AS stageLabel, sr.stage AS stage,
  sr.borderline AS borderline, i.review_status AS reviewStatus, i.reviewed_by AS reviewedBy,
  i.min_confidence AS minConfidence, i.original_name AS fileName, i.updated_at AS updatedAt`;

/** LIKE pattern for a case-insensitive substring, with the wildcards of the search text escaped. */
const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export interface WorklistQuery {
  readonly countSql: string;
  /** Takes the same params followed by LIMIT and OFFSET. */
  readonly pageSql: string;
  readonly params: readonly unknown[];
}

export function listStudiesQuery(request: ListStudiesRequest): WorklistQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  const search = request.search?.trim();
  // Every word must match the patient name (DICOM's ^ separators read as spaces), patient id or file name.
  for (const word of search ? search.split(/\s+/) : []) {
    where.push(`(p.name LIKE ? ESCAPE '\\' OR p.dicom_patient_id LIKE ? ESCAPE '\\' OR i.original_name LIKE ? ESCAPE '\\')`);
    const pattern = likePattern(word);
    params.push(pattern, pattern, pattern);
  }
  if (request.stage === 'none') where.push('(sr.kind IS NULL OR sr.kind = \'error\')');
  else if (request.stage === 'no-fit') where.push("sr.kind = 'no-fit'");
  else if (request.stage) {
    where.push('sr.stage = ?');
    params.push(request.stage);
  }
  if (request.reviewStatus) {
    where.push('i.review_status = ?');
    params.push(request.reviewStatus);
  }
  if (request.dateFrom) {
    where.push('st.study_date >= ?');
    params.push(request.dateFrom);
  }
  if (request.dateTo) {
    where.push('st.study_date <= ?');
    params.push(request.dateTo);
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  // The count joins only what its filters use: counting 10,000 rows is then a scan of one narrow table.
  const countFrom = ['FROM images i JOIN studies st ON st.id = i.study_ref',
    search ? JOIN_PATIENT : '', request.stage ? JOIN_STAGE : ''].join(' ');
  const field = request.sort?.field ?? 'updatedAt';
  const dir = request.sort?.dir === 'asc' ? 'ASC' : 'DESC';
  // Rows without a value sort last either way; the image id makes paging stable among equal values.
  const column = SORT_COLUMN[field];
  const nullsLast = NEVER_NULL.has(field) ? '' : `${column} IS NULL, `;
  const orderSql = `ORDER BY ${nullsLast}${column} ${dir}, i.id ${dir}`;
  return {
    countSql: `SELECT COUNT(*) AS n ${countFrom} ${whereSql}`,
    pageSql: `SELECT ${COLUMNS} ${FROM} ${whereSql} ${orderSql} LIMIT ? OFFSET ?`,
    params,
  };
}
