/**
 * The worklist's state for this window (sort, filters, page, the study last opened and the order the
 * user saw), kept in sessionStorage so coming back from a study restores it exactly, and so "Approve and
 * next" walks the studies in the order the worklist showed them.
 */
import type { ListStudiesRequest, ReviewStatus, StudySortField } from '../../core/api/studies';
import type { CvmApi } from '../../core/api/index';

export const PAGE_SIZE = 100;

export interface WorklistQuery {
  readonly search: string;
  readonly stage: ListStudiesRequest['stage'];
  /** The staging model's confidence in its stage. */
  readonly stageConfidence?: ListStudiesRequest['stageConfidence'];
  readonly review: ReviewStatus | undefined;
  readonly sort: { readonly field: StudySortField; readonly dir: 'asc' | 'desc' };
  readonly offset: number;
}

export interface WorklistSession {
  readonly query: WorklistQuery;
  /** The study opened last: the cursor returns to its row. */
  readonly lastOpened: number | null;
  /** Image ids in the order the worklist showed them when a study was opened. */
  readonly order: readonly number[];
}

const KEY = 'cvm.worklist';

export const DEFAULT_QUERY: WorklistQuery = {
  search: '',
  stage: undefined,
  review: undefined,
  sort: { field: 'importedAt', dir: 'desc' },
  offset: 0,
};

export function loadWorklistSession(): WorklistSession {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw) {
      const parsed = JSON.parse(raw) as Partial<WorklistSession>;
      return {
        query: { ...DEFAULT_QUERY, ...(parsed.query ?? {}) },
        lastOpened: typeof parsed.lastOpened === 'number' ? parsed.lastOpened : null,
        order: Array.isArray(parsed.order) ? parsed.order.filter((n): n is number => typeof n === 'number') : [],
      };
    }
  } catch {
    // A damaged entry is ignored: the worklist starts from its defaults.
  }
  return { query: DEFAULT_QUERY, lastOpened: null, order: [] };
}

export function saveWorklistSession(update: Partial<WorklistSession>): void {
  const next = { ...loadWorklistSession(), ...update };
  try {
    sessionStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // Storage full or disabled: the worklist then simply starts from its defaults next time.
  }
}

export function requestOf(query: WorklistQuery, offset = query.offset): ListStudiesRequest {
  const request: ListStudiesRequest = { offset, limit: PAGE_SIZE, sort: { ...query.sort } };
  if (query.search.trim()) request.search = query.search.trim();
  if (query.stage) request.stage = query.stage;
  if (query.stageConfidence) request.stageConfidence = query.stageConfidence;
  if (query.review) request.reviewStatus = query.review;
  return request;
}

/**
 * The next study after `currentId` in the worklist's order that is not approved yet: first among the ids
 * the worklist showed, then on the following pages of the same query. null when there is none.
 */
export async function nextUnreviewed(api: CvmApi, currentId: number): Promise<number | null> {
  const session = loadWorklistSession();
  const order = [...session.order];
  const seen = new Set(order);
  let index = order.indexOf(currentId);
  const statusOf = async (imageId: number): Promise<ReviewStatus | null> => {
    const r = await api.loadStudy({ imageId });
    return r.ok ? r.value.review.status : null;
  };
  for (const imageId of order.slice(index + 1)) {
    const s = await statusOf(imageId);
    if (s !== null && s !== 'approved') return imageId;
  }
  // Beyond what the worklist showed: later pages of the same query.
  let offset = session.query.offset + PAGE_SIZE;
  if (index < 0) {
    index = 0;
    offset = 0;
  }
  for (let page = 0; page < 100; page++) {
    const r = await api.listStudies(requestOf(session.query, offset));
    if (!r.ok || r.value.rows.length === 0) return null;
    for (const row of r.value.rows) {
      if (seen.has(row.imageId) || row.imageId === currentId) continue;
      seen.add(row.imageId);
      if (row.reviewStatus !== 'approved') return row.imageId;
    }
    offset += PAGE_SIZE;
  }
  return null;
}
