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
  expectedErrorMm: 'i.ai_max_expected_mm',
  fileName: 'i.original_name',
  stageProbability: 'i.wl_stage_probability',
};

/** Columns declared NOT NULL: sorting them needs no nulls-last term (which would keep SQLite off the index). */
const NEVER_NULL = new Set<StudySortField>(['updatedAt', 'importedAt', 'reviewStatus', 'fileName']);

const JOIN_PATIENT = 'LEFT JOIN patients p ON p.id = st.patient_ref';
const JOIN_STAGE = 'LEFT JOIN stage_results sr ON sr.set_ref = i.latest_set_ref';

const COLUMNS = `
  i.id AS imageId, st.id AS studyId, p.name AS patientName, p.dicom_patient_id AS patientId, COALESCE(p.sex, st.entered_sex) AS sex,
  st.study_date AS studyDate, st.age_years AS ageYears, sr.label AS stageLabel, sr.stage AS stage,
  sr.borderline AS borderline, sr.probability AS stageProbability, sr.confidence AS stageConfidence, i.review_status AS reviewStatus, i.reviewed_by AS reviewedBy,
  i.ai_verdict AS aiVerdict, i.ai_max_expected_mm AS maxExpectedErrorMm, i.original_name AS fileName, i.updated_at AS updatedAt`;

/** LIKE pattern for a case-insensitive substring, with the wildcards of the search text escaped. */
const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export interface WorklistQuery {
  readonly countSql: string;
  /** Takes the same params followed by LIMIT and OFFSET. */
  readonly pageSql: string;
  readonly params: readonly unknown[];
  /**
   * With a search: the page found by walking the sort's index and testing each row's search text, for
   * searches that match many rows (then a page is found after a few rows, where collecting every match from
   * the search index and sorting them would take long). Takes `walkParams` then LIMIT and OFFSET.
   */
  readonly walk?: { readonly pageSql: string; readonly params: readonly unknown[] };
  /**
   * With a search through the trigram index: `probeSql` counts its first word's matches up to
   * SEARCH_INDEX_COUNT_LIMIT; at the limit the total is counted by `countSql` of `scan` instead, a scan of the
   * narrow search-text index, which costs the same for any word where the trigram index costs per match.
   */
  readonly scan?: {
    readonly probeSql: string;
    readonly probeParams: readonly unknown[];
    readonly countSql: string;
    readonly params: readonly unknown[];
  };
}

/** Up to this many matches of a word, counting them through the trigram index is the cheaper way. */
export const SEARCH_INDEX_COUNT_LIMIT = 2_000;

/**
 * Whether walking the sort index beats collecting the matches: a walk reads about
 * (offset + limit) * rows / matches rows, collecting reads and sorts every match.
 */
export function preferWalk(matches: number, rows: number, offset: number, limit: number): boolean {
  return matches * matches > (offset + limit) * rows;
}

export function listStudiesQuery(request: ListStudiesRequest): WorklistQuery {
  const field = request.sort?.field ?? 'updatedAt';
  // Each condition in two forms: through the trigram search index, and as a test of the row ("walk").
  const indexed: Array<{ sql: string; params: unknown[] }> = [];
  const walked: Array<{ sql: string; params: unknown[] }> = [];
  const both = (sql: string, ...params: unknown[]) => {
    indexed.push({ sql, params });
    walked.push({ sql, params });
  };
  const search = request.search?.trim();
  // Every word must match the patient name, patient id or file name (wl_search holds all three, lower case).
  // Words of 3+ characters can use the trigram index (images_search); shorter ones are always a row test.
  for (const word of search ? search.split(/\s+/) : []) {
    const like = { sql: `+i.wl_search LIKE ? ESCAPE '\\'`, params: [likePattern(word.toLowerCase())] };
    walked.push(like);
    if ([...word].length >= 3) {
      indexed.push({
        sql: 'i.id IN (SELECT rowid FROM images_search WHERE images_search MATCH ?)',
        params: [`"${word.toLowerCase().replaceAll('"', '""')}"`],
      });
    } else {
      indexed.push(like);
    }
  }
  if (request.stage === 'none') both("(i.wl_stage_kind IS NULL OR i.wl_stage_kind = 'error')");
  // No textbook stage: stored before the staging model ('no-fit'), or the model's result with no textbook stage.
  else if (request.stage === 'no-fit') {
    both(
      `(i.wl_stage_kind = 'no-fit' OR i.latest_set_ref IN (SELECT set_ref FROM stage_results WHERE kind = 'stage' AND textbook_stage IS NULL AND stage_model IS NOT NULL))`,
    );
  } else if (request.stage) both('i.wl_stage = ?', request.stage);
  if (request.stageConfidence) both('i.wl_stage_confidence = ?', request.stageConfidence);
  if (request.reviewStatus) both('i.review_status = ?', request.reviewStatus);
  // A date range over years would otherwise make SQLite collect every study in it and sort them; walking the
  // sort's index and skipping those outside the range stops after one page (unary + hides the date index).
  const date = field === 'studyDate' ? 'i.wl_study_date' : '+i.wl_study_date';
  if (request.dateFrom) both(`${date} >= ?`, request.dateFrom);
  if (request.dateTo) both(`${date} <= ?`, request.dateTo);
  const whereOf = (conditions: typeof indexed) =>
    conditions.length > 0 ? `WHERE ${conditions.map((c) => c.sql).join(' AND ')}` : '';
  const paramsOf = (conditions: typeof indexed) => conditions.flatMap((c) => c.params);
  const dir = request.sort?.dir === 'asc' ? 'ASC' : 'DESC';
  // Rows without a value sort last either way; the image id makes paging stable among equal values.
  const column = SORT_COLUMN[field];
  const nullsLast = NEVER_NULL.has(field) ? '' : `${column} IS NULL, `;
  const orderSql = `ORDER BY ${nullsLast}${column} ${dir}, i.id ${dir}`;
  // The page is chosen from the images table alone (skipping OFFSET rows walks an index, not joins); only its
  // rows are then joined for display. CROSS JOIN keeps SQLite's join order: the page first.
  const page = (
    whereSql: string,
  ) => `SELECT ${COLUMNS} FROM (SELECT i.id FROM images i ${whereSql} ${orderSql} LIMIT ? OFFSET ?) page
      CROSS JOIN images i ON i.id = page.id JOIN studies st ON st.id = i.study_ref ${JOIN_PATIENT} ${JOIN_STAGE} ${orderSql}`;
  // The count uses the indexes (the date index too).
  const countWhere = whereOf(indexed).replaceAll('+i.wl_study_date', 'i.wl_study_date');
  const firstIndexed = indexed.find((c) => c.sql.includes('images_search'));
  return {
    countSql: `SELECT COUNT(*) AS n FROM images i ${countWhere}`,
    pageSql: page(whereOf(indexed)),
    params: paramsOf(indexed),
    ...(search ? { walk: { pageSql: page(whereOf(walked)), params: paramsOf(walked) } } : {}),
    ...(firstIndexed
      ? {
          scan: {
            probeSql: `SELECT COUNT(*) AS n FROM (SELECT rowid FROM images_search WHERE images_search MATCH ? LIMIT ${SEARCH_INDEX_COUNT_LIMIT})`,
            probeParams: firstIndexed.params,
            countSql: `SELECT COUNT(*) AS n FROM images i ${whereOf(walked).replaceAll('+i.', 'i.')}`,
            params: paramsOf(walked),
          },
        }
      : {}),
  };
}
