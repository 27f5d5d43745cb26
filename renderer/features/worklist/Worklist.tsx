/**
 * The worklist: every stored study with patient, date, age, stage, review status and the landmark model's
 * check (verdict, largest expected error in mm); search, filters, sorting and paging in the database;
 * import of files or folders (dialog or drop) with progress and cancel; batch analysis with progress,
 * cancel and rows that update as each study finishes; data-set export. Sort, filters, page and cursor
 * survive a visit to a study (worklist-session.ts).
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { BatchFinished, BatchProgress } from '../../../core/api/analysis';
import {
  REVIEW_STATUSES,
  STAGE_CODES,
  type ListStudiesRequest,
  type ListStudiesResponse,
  type ReviewStatus,
  type StudyRow,
  type StudySortField,
} from '../../../core/api/studies';
import { api } from '../../api';
import { SendBadge, useSendStates } from '../pacs/SendStatus';
import {
  PAGE_SIZE,
  loadWorklistSession,
  requestOf,
  saveWorklistSession,
  type WorklistQuery,
} from '../../state/worklist-session';
import { Notice, type NoticeState } from '../Notice';
import { formatAge, plural } from '../format';
import { ExportDialog } from './ExportDialog';

interface ImportProgress {
  readonly done: number;
  readonly total: number;
  readonly current: string;
}

/** Files a folder drop or picker may hold that are worth trying: DICOM often has no extension at all. */
export function isCandidateFile(name: string): boolean {
  const lower = name.toLowerCase();
  if (/\.(dcm|dicom|dic|png|jpe?g|tiff?)$/.test(lower)) return true;
  return !/\.[a-z0-9]{1,5}$/.test(lower) && !lower.startsWith('.');
}

const COLUMNS: readonly { field: StudySortField; label: string; className: string }[] = [
  { field: 'patientName', label: 'Patient', className: 'col-patient' },
  { field: 'patientId', label: 'ID', className: 'col-id' },
  { field: 'studyDate', label: 'Study date', className: 'col-date' },
  { field: 'ageYears', label: 'Age', className: 'col-age' },
  { field: 'stage', label: 'Stage', className: 'col-stage' },
  { field: 'stageProbability', label: 'P(stage)', className: 'col-prob' },
  { field: 'reviewStatus', label: 'Review', className: 'col-review' },
  { field: 'expectedErrorMm', label: 'AI check', className: 'col-conf' },
  { field: 'fileName', label: 'File', className: 'col-file' },
];

const SPACING_KEY = 'cvm.importSpacing';

function readSpacing(): string {
  try {
    return localStorage.getItem(SPACING_KEY) ?? '';
  } catch {
    return '';
  }
}

/** A cell whose text may be long: one line, cut with an ellipsis, the whole text on hover. */
function Cut({ text, className }: { text: string; className?: string }): ReactNode {
  return (
    <span className={`cut ${className ?? ''}`} title={text}>
      {text}
    </span>
  );
}

/** A worklist filter: "all" (undefined) or one of `options` ([value, label]). */
function FilterSelect<T extends string>(props: {
  readonly label: string;
  readonly value: T | undefined;
  readonly options: readonly (readonly [T, string])[];
  readonly onChange: (value: T | undefined) => void;
  readonly testId: string;
}): ReactNode {
  return (
    <label className="inline">
      {props.label}
      <select
        value={props.value ?? ''}
        onChange={(e) => props.onChange(props.options.find(([v]) => v === e.target.value)?.[0])}
        data-testid={props.testId}
      >
        <option value="">all</option>
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Worklist({ onOpen }: { onOpen: (imageId: number) => void }): ReactNode {
  const initial = useRef(loadWorklistSession()).current;
  const [search, setSearch] = useState(initial.query.search);
  const [stage, setStage] = useState<ListStudiesRequest['stage']>(initial.query.stage);
  const [stageConfidence, setStageConfidence] = useState<ListStudiesRequest['stageConfidence']>(
    initial.query.stageConfidence,
  );
  const [review, setReview] = useState<ReviewStatus | undefined>(initial.query.review);
  const [sort, setSort] = useState<WorklistQuery['sort']>(initial.query.sort);
  const [offset, setOffset] = useState(initial.query.offset);
  const [page, setPage] = useState<ListStudiesResponse | null>(null);
  const [cursor, setCursor] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [spacing, setSpacingState] = useState(readSpacing);
  const [importing, setImporting] = useState<ImportProgress | null>(null);
  const [batch, setBatch] = useState<BatchProgress | null>(null);
  const [notice, setNotice] = useState<NoticeState | null>(null);
  const [exporting, setExporting] = useState(false);
  const cancelImport = useRef(false);
  const tableRef = useRef<HTMLTableSectionElement>(null);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const restoreCursorTo = useRef<number | null>(initial.lastOpened);

  const query: WorklistQuery = { search, stage, stageConfidence, review, sort, offset };
  const queryKey = JSON.stringify(query);

  const setSpacing = (value: string): void => {
    setSpacingState(value);
    try {
      localStorage.setItem(SPACING_KEY, value);
    } catch {
      /* not kept: typed again next time */
    }
  };
  const sendStates = useSendStates(page?.rows.map((r) => r.imageId) ?? []);

  const refresh = useCallback(async () => {
    const q = JSON.parse(queryKey) as WorklistQuery;
    const r = await api.listStudies(requestOf(q));
    if (!r.ok) {
      setError(r.error.message);
      return;
    }
    setError(null);
    setPage(r.value);
    saveWorklistSession({ query: q });
    const back = restoreCursorTo.current;
    if (back !== null) {
      restoreCursorTo.current = null;
      const i = r.value.rows.findIndex((row) => row.imageId === back);
      if (i >= 0) {
        setCursor(i);
        return;
      }
    }
    setCursor((c) => Math.min(c, Math.max(0, r.value.rows.length - 1)));
  }, [queryKey]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // Keyboard users land on the list itself, with the cursor on the study they came from.
  useEffect(() => {
    if (initial.lastOpened !== null) wrapRef.current?.focus();
  }, [initial.lastOpened]);

  useEffect(() => {
    let lastDone = -1;
    const offProgress = api.onEvent('analysisBatchProgress', (p) => {
      setBatch(p);
      // Rows update as each study finishes, not only at the end.
      if (p.done !== lastDone) {
        lastDone = p.done;
        void refresh();
      }
    });
    const offFinished = api.onEvent('analysisBatchDone', (f: BatchFinished) => {
      setBatch(null);
      const failed = f.items.filter((i) => !i.ok).length;
      setNotice({
        kind: failed > 0 ? 'warning' : 'info',
        text: `${f.cancelled ? 'Analysis cancelled' : 'Analysis finished'}: ${f.done} of ${plural(f.total, 'study', 'studies')}${failed ? `, ${failed} failed` : ''}.`,
      });
      void refresh();
    });
    return () => {
      offProgress();
      offFinished();
    };
  }, [refresh]);

  const open = useCallback(
    (imageId: number) => {
      saveWorklistSession({
        query: JSON.parse(queryKey) as WorklistQuery,
        lastOpened: imageId,
        order: page?.rows.map((r) => r.imageId) ?? [],
      });
      onOpen(imageId);
    },
    [onOpen, page, queryKey],
  );

  const importFiles = useCallback(
    async (files: readonly File[]) => {
      const candidates = files.filter((f) => isCandidateFile(f.name));
      if (candidates.length === 0) {
        setNotice({ kind: 'error', text: 'No DICOM, PNG, JPEG or TIFF files found.' });
        return;
      }
      const spacingMm = spacing.trim() ? Number(spacing.replace(',', '.')) : undefined;
      if (spacingMm !== undefined && (!Number.isFinite(spacingMm) || spacingMm <= 0)) {
        setNotice({ kind: 'error', text: 'The spacing for PNG/JPEG must be a positive number of mm per pixel.' });
        return;
      }
      cancelImport.current = false;
      const failures: string[] = [];
      const damaged: string[] = [];
      let lastImageId: number | null = null;
      let imported = 0;
      for (const [i, file] of candidates.entries()) {
        if (cancelImport.current) break;
        setImporting({ done: i, total: candidates.length, current: file.name });
        const bytes = new Uint8Array(await file.arrayBuffer());
        const r = await api.importFiles({
          files: [{ name: file.name, bytes }],
          ...(spacingMm !== undefined ? { spacingMm } : {}),
        });
        if (!r.ok) {
          failures.push(`${file.name}: ${r.error.message}`);
          continue;
        }
        for (const item of r.value.results) {
          if (item.ok) {
            lastImageId = item.imageId;
            imported += 1;
            damaged.push(...(item.warnings ?? []));
          } else failures.push(`${item.fileName}: ${item.error.message}`);
        }
        if (i % 10 === 9) void refresh();
      }
      setImporting(null);
      setNotice({
        kind: failures.length > 0 ? (imported > 0 ? 'warning' : 'error') : damaged.length > 0 ? 'warning' : 'info',
        text: `${cancelImport.current ? 'Import cancelled. ' : ''}Imported ${imported} of ${plural(candidates.length, 'file')}.${failures.length ? ` ${failures.length} refused.` : ''}${damaged.length ? ` ${damaged.length} imported with warnings (damaged data).` : ''}`,
        details: [...failures, ...damaged],
      });
      await refresh();
      if (candidates.length === 1 && lastImageId !== null) open(lastImageId);
    },
    [spacing, refresh, open],
  );

  const analyzeAll = useCallback(async () => {
    const ids = page?.rows.filter((r) => r.stageLabel === null).map((r) => r.imageId) ?? [];
    if (ids.length === 0) {
      setNotice({ kind: 'info', text: 'Every study on this page has landmarks already.' });
      return;
    }
    const r = await api.analyzeBatch({ imageIds: ids });
    if (!r.ok) setNotice({ kind: 'error', text: r.error.message });
    else setBatch({ batchId: r.value.batchId, done: 0, total: r.value.total, failed: 0, current: null, etaMs: null });
  }, [page]);

  const onKeyDown = (e: React.KeyboardEvent): void => {
    if (!page || page.rows.length === 0) return;
    if (e.key === 'ArrowDown') {
      setCursor((c) => Math.min(page.rows.length - 1, c + 1));
      e.preventDefault();
    }
    if (e.key === 'ArrowUp') {
      setCursor((c) => Math.max(0, c - 1));
      e.preventDefault();
    }
    if (e.key === 'Home') {
      setCursor(0);
      e.preventDefault();
    }
    if (e.key === 'End') {
      setCursor(page.rows.length - 1);
      e.preventDefault();
    }
    if (e.key === 'Enter' && e.target === e.currentTarget) {
      const row = page.rows[cursor];
      if (row) open(row.imageId);
      e.preventDefault();
    }
  };

  useEffect(() => {
    tableRef.current?.querySelector<HTMLElement>(`[data-row="${cursor}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [cursor, page]);

  /** A new search or filter shows its first page. */
  const fromFirstPage =
    <T,>(set: (value: T) => void) =>
    (value: T): void => {
      set(value);
      setOffset(0);
    };

  const toggleSort = (field: StudySortField): void => {
    setSort((s) => (s.field === field ? { field, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { field, dir: 'asc' }));
    setOffset(0);
  };

  const current = page?.rows[cursor];

  return (
    <div
      className="worklist"
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        void importFiles([...e.dataTransfer.files]);
      }}
    >
      <div className="worklist-bar">
        <div role="search" className="inline-group">
          <input
            type="search"
            placeholder="Search patient, ID or file"
            aria-label="Search patient, ID or file"
            data-testid="worklist-search"
            value={search}
            onChange={(e) => fromFirstPage(setSearch)(e.target.value)}
          />
          <FilterSelect
            label="Stage"
            value={stage}
            options={[
              ...STAGE_CODES.map((s) => [s, s] as const),
              ['no-fit', 'textbook: no stage fits'],
              ['none', 'not staged'],
            ]}
            onChange={fromFirstPage(setStage)}
            testId="filter-stage"
          />
          <FilterSelect
            label="Confidence"
            value={stageConfidence}
            options={[
              ['high', 'high (70% or more)'],
              ['moderate', 'moderate (50-70%)'],
              ['low', 'low (under 50%)'],
            ]}
            onChange={fromFirstPage(setStageConfidence)}
            testId="filter-stage-confidence"
          />
          <FilterSelect
            label="Review"
            value={review}
            options={REVIEW_STATUSES.map((s) => [s, s] as const)}
            onChange={fromFirstPage(setReview)}
            testId="filter-review"
          />
        </div>
        <span className="spacer" />
        <label
          className="inline"
          title="PNG and JPEG files carry no pixel spacing: this value is recorded as entered. It stays until you change it."
        >
          PNG/JPEG spacing
          <input
            className="narrow"
            inputMode="decimal"
            placeholder="mm/px"
            aria-label="Pixel spacing for PNG and JPEG imports, mm per pixel"
            value={spacing}
            onChange={(e) => setSpacing(e.target.value)}
            data-testid="import-spacing"
          />
        </label>
        <button type="button" onClick={() => filesInput.current?.click()} data-testid="import-files-button">
          Import files…
        </button>
        <input
          ref={filesInput}
          type="file"
          multiple
          hidden
          data-testid="import-files"
          tabIndex={-1}
          aria-hidden="true"
          accept=".dcm,.dicom,.dic,.png,.jpg,.jpeg,.tif,.tiff,application/dicom,image/png,image/jpeg,image/tiff"
          onChange={(e) => {
            const f = [...(e.target.files ?? [])];
            e.target.value = '';
            void importFiles(f);
          }}
        />
        <button type="button" onClick={() => folderInput.current?.click()} data-testid="import-folder-button">
          Import folder…
        </button>
        <input
          ref={folderInput}
          type="file"
          hidden
          data-testid="import-folder"
          tabIndex={-1}
          aria-hidden="true"
          {...{ webkitdirectory: '' }}
          onChange={(e) => {
            const f = [...(e.target.files ?? [])];
            e.target.value = '';
            void importFiles(f);
          }}
        />
        <button type="button" onClick={() => void analyzeAll()} disabled={batch !== null} data-testid="analyze-all">
          Analyze unstaged
        </button>
        <button type="button" onClick={() => setExporting(true)} data-testid="export-dataset">
          Export data set…
        </button>
      </div>
      {importing && (
        <div className="progress" role="status" data-testid="import-progress">
          <progress max={importing.total} value={importing.done} aria-label="Import progress" />
          <Cut text={`Importing ${importing.done + 1} of ${importing.total}: ${importing.current}`} />
          <button
            type="button"
            onClick={() => {
              cancelImport.current = true;
            }}
          >
            Cancel
          </button>
        </div>
      )}
      {batch && (
        <div className="progress" role="status" data-testid="batch-progress">
          <progress max={batch.total} value={batch.done} aria-label="Analysis progress" />
          <Cut
            text={`Analysing ${Math.min(batch.done + 1, batch.total)} of ${batch.total}${batch.current ? `: ${batch.current}` : ''}${batch.etaMs !== null ? ` · about ${Math.ceil(batch.etaMs / 1000)} s left` : ''}`}
          />
          <button type="button" onClick={() => void api.cancelBatch({ batchId: batch.batchId })}>
            Cancel
          </button>
        </div>
      )}
      {notice ? <Notice notice={notice} onClose={() => setNotice(null)} testId="worklist-notice" /> : <div />}
      {error ? <Notice notice={{ kind: 'error', text: error }} /> : <div />}
      <div
        className="table-wrap"
        ref={wrapRef}
        tabIndex={0}
        onKeyDown={onKeyDown}
        role="region"
        aria-label={`Studies: arrow keys move, Enter opens${current ? `. Selected: ${current.patientName ?? current.fileName}` : ''}`}
        data-testid="worklist"
      >
        <table className="studies">
          <colgroup>
            {COLUMNS.map((c) => (
              <col key={c.field} className={c.className} />
            ))}
          </colgroup>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th
                  key={c.field}
                  scope="col"
                  aria-sort={sort.field === c.field ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
                >
                  <button type="button" className="th-button" onClick={() => toggleSort(c.field)}>
                    {c.label}
                    {sort.field === c.field ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody ref={tableRef}>
            {page?.rows.map((r, i) => {
              const failedStage = r.stageLabel !== null && r.stage === null && !r.stageLabel.startsWith('no stage');
              return (
                <tr
                  key={r.imageId}
                  data-row={i}
                  data-testid={`worklist-row-${r.imageId}`}
                  className={i === cursor ? 'cursor' : ''}
                  aria-selected={i === cursor}
                  onClick={() => setCursor(i)}
                  onDoubleClick={() => open(r.imageId)}
                >
                  <td>
                    <button
                      type="button"
                      className="link cut"
                      title={r.patientName ?? r.fileName}
                      tabIndex={-1}
                      onClick={() => open(r.imageId)}
                    >
                      {r.patientName ?? r.fileName}
                    </button>
                  </td>
                  <td>
                    <Cut text={r.patientId ?? '—'} />
                  </td>
                  <td className="num">{r.studyDate ?? '—'}</td>
                  <td className="num">{formatAge(r.ageYears)}</td>
                  <td>
                    {r.stageLabel === null ? (
                      '—'
                    ) : failedStage ? (
                      <Cut className="error-text" text={`not computable: ${r.stageLabel}`} />
                    ) : (
                      <Cut
                        className={r.borderline || r.stageLabel.startsWith('no stage') ? 'warn-text' : ''}
                        text={typeof r.stageProbability === 'number' && r.stage ? r.stage : r.stageLabel}
                      />
                    )}
                  </td>
                  <td
                    className={`num${r.stageConfidence === 'low' ? ' warn-text' : ''}`}
                    data-testid="worklist-stage-probability"
                    title={r.stageConfidence ? `${r.stageConfidence} confidence` : undefined}
                  >
                    {typeof r.stageProbability === 'number' ? `${Math.round(r.stageProbability * 100)}%` : '—'}
                  </td>
                  <td>
                    <span
                      className={`review ${r.reviewStatus}`}
                      title={r.reviewedBy ? `approved by ${r.reviewedBy}` : r.reviewStatus}
                    >
                      {r.reviewStatus}
                      {r.reviewedBy && r.reviewStatus === 'approved' ? ` (${r.reviewedBy})` : ''}
                    </span>
                    <SendBadge state={sendStates.get(r.imageId)} />
                  </td>
                  <AiCheckCell verdict={r.aiVerdict} maxMm={r.maxExpectedErrorMm} />
                  <td>
                    <Cut className="muted" text={r.fileName} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {page && page.total === 0 && (
          <div className="empty">
            No studies
            {search || stage || stageConfidence || review
              ? ' match these filters'
              : ' yet: import DICOM, PNG, JPEG or TIFF files, or drop them here'}
            .
          </div>
        )}
      </div>
      {page ? (
        <div className="pager">
          <span data-testid="worklist-total">{plural(page.total, 'study', 'studies')}</span>
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
            Previous
          </button>
          <span>
            {page.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE_SIZE, page.total)}
          </span>
          <button
            type="button"
            disabled={offset + PAGE_SIZE >= page.total}
            onClick={() => setOffset(offset + PAGE_SIZE)}
          >
            Next
          </button>
        </div>
      ) : (
        <div />
      )}
      {exporting && <ExportDialog onClose={() => setExporting(false)} />}
    </div>
  );
}

/**
 * The landmark model's check of its prediction: the image verdict and the largest expected error (mm) of its
 * landmarks, calibrated on cross-validation (docs/inference.md). Never the raw heatmap peak.
 */
function AiCheckCell({
  verdict,
  maxMm,
}: {
  verdict: StudyRow['aiVerdict'];
  maxMm: StudyRow['maxExpectedErrorMm'];
}): ReactNode {
  if (verdict === null && maxMm === null) return <td className="num">—</td>;
  const word = verdict === 'ok' ? 'ok' : verdict === 'uncertain' ? 'check' : verdict === 'failed' ? 'failed' : '';
  const mm = maxMm === null ? '' : `${maxMm.toFixed(1)} mm`;
  return (
    <td
      className={`num${verdict === 'failed' ? ' error-text' : verdict === 'uncertain' ? ' warn-text' : ''}`}
      data-testid="worklist-ai-check"
      title={`model's verdict: ${verdict ?? 'not recorded'}${maxMm === null ? '' : `; largest expected landmark error ${maxMm.toFixed(2)} mm`}`}
    >
      {[word, mm].filter(Boolean).join(' · ')}
    </td>
  );
}
