/** The worklist query: filters, search, sort and paging as one parameterised SQL statement. */
import type { ListStudiesRequest, StudySortField } from '../../core/api/studies';

/**
 * Sorts and filters read the images table alone: the joined values are copied onto each image row by
 * triggers (migration 4), and each sort has an index, so a page is an index walk whatever the table size.
 */
const SORT_COLUMN: Record<StudySortField, string> = {
  updatedAt: 'i.updated_at',
  importedAt: 'i.imported_at',
  patientName: 'i.wl_patient_name',
  patientId: 'i.wl_patient_id',
  studyDate: 'i.wl_study_date',
  ageYears: 'i.wl_age_years',
  stage: 'i.wl_stage',
  reviewStatus: 'i.review_status',
  minConfidence: 'i.min_confidence',
  fileName: 'i.original_name',
};

/** Columns declared NOT NULL: sorting them needs no nulls-last term (which would keep SQLite off the index). */
const NEVER_NULL = new Set<StudySortField>(['updatedAt', 'importedAt', 'reviewStatus', 'fileName']);

const JOIN_PATIENT = 'LEFT JOIN patients p ON p.id = st.patient_ref';
const JOIN_STAGE = 'LEFT JOIN stage_results sr ON sr.set_ref = i.latest_set_ref';

const COLUMNS = `
  i.id AS imageId, st.id AS studyId, p.name AS patientName, p.dicom_patient_id AS patientId, p.sex AS sex,
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
  const field = request.sort?.field ?? 'updatedAt';
  const where: string[] = [];
  const params: unknown[] = [];
  const search = request.search?.trim();
  // Every word must match the patient name, patient id or file name (wl_search holds all three, lower case).
  // Words of 3+ characters go through the trigram index (images_search), shorter ones scan wl_search.
  for (const word of search ? search.split(/\s+/) : []) {
    if ([...word].length >= 3) {
      where.push('i.id IN (SELECT rowid FROM images_search WHERE images_search MATCH ?)');
      params.push(`"${word.toLowerCase().replaceAll('"', '""')}"`);
    } else {
      where.push(`i.wl_search LIKE ? ESCAPE '\\'`);
      params.push(likePattern(word.toLowerCase()));
    }
  }
  if (request.stage === 'none') where.push('(i.wl_stage_kind IS NULL OR i.wl_stage_kind = \'error\')');
  else if (request.stage === 'no-fit') where.push("i.wl_stage_kind = 'no-fit'");
  else if (request.stage) {
    where.push('i.wl_stage = ?');
    params.push(request.stage);
  }
  if (request.reviewStatus) {
    where.push('i.review_status = ?');
    params.push(request.reviewStatus);
  }
  if (request.dateFrom) {
    where.push('i.wl_study_date >= ?');
    params.push(request.dateFrom);
  }
  if (request.dateTo) {
    where.push('i.wl_study_date <= ?');
    params.push(request.dateTo);
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  // A date range over years would otherwise make SQLite collect every study in it and sort them; walking the
  // sort's index and skipping those outside the range stops after one page (unary + hides the date index).
  const pageWhereSql = field !== 'studyDate' ? whereSql.replaceAll('i.wl_study_date', '+i.wl_study_date') : whereSql;
  const dir = request.sort?.dir === 'asc' ? 'ASC' : 'DESC';
  // Rows without a value sort last either way; the image id makes paging stable among equal values.
  const column = SORT_COLUMN[field];
  const nullsLast = NEVER_NULL.has(field) ? '' : `${column} IS NULL, `;
  const orderSql = `ORDER BY ${nullsLast}${column} ${dir}, i.id ${dir}`;
  // The page is chosen from the images table alone (skipping OFFSET rows walks an index, not joins); only
  // its rows are then joined for display.
  return {
    countSql: `SELECT COUNT(*) AS n FROM images i ${whereSql}`,
    // CROSS JOIN keeps SQLite's join order: the page first, then its 50 rows looked up.
    pageSql: `SELECT ${COLUMNS} FROM (SELECT i.id FROM images i ${pageWhereSql} ${orderSql} LIMIT ? OFFSET ?) page
      CROSS JOIN images i ON i.id = page.id JOIN studies st ON st.id = i.study_ref ${JOIN_PATIENT} ${JOIN_STAGE} ${orderSql}`,
    params,
  };
}
