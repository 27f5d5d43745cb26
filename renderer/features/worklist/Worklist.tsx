/**
 * The worklist: every stored study with patient, date, age, stage, review status and model confidence;
 * search, filters, sorting and paging in the database; import of files or folders (dialog or drop) with
 * progress and cancel; batch analysis with progress and cancel.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { BatchFinished, BatchProgress } from '../../../core/api/analysis';
import {
  REVIEW_STATUSES, STAGE_CODES, type ListStudiesRequest, type ListStudiesResponse, type ReviewStatus, type StudySortField,
} from '../../../core/api/studies';
import { api } from '../../api';

const PAGE_SIZE = 100;

type Sort = { field: StudySortField; dir: 'asc' | 'desc' };

interface ImportProgress {
  readonly done: number;
  readonly total: number;
  readonly current: string;
  readonly failures: readonly string[];
}

/** Files a folder drop or picker may hold that are worth trying: DICOM often has no extension at all. */
export function isCandidateFile(name: string): boolean {
  const lower = name.toLowerCase();
  if (/\.(dcm|dicom|dic|png|jpe?g)$/.test(lower)) return true;
  return !/\.[a-z0-9]{1,5}$/.test(lower) && !lower.startsWith('.');
}

const COLUMNS: readonly { field: StudySortField; label: string }[] = [
  { field: 'patientName', label: 'Patient' },
  { field: 'patientId', label: 'ID' },
  { field: 'studyDate', label: 'Study date' },
  { field: 'ageYears', label: 'Age' },
  { field: 'stage', label: 'Stage' },
  { field: 'reviewStatus', label: 'Review' },
  { field: 'minConfidence', label: 'Confidence' },
  { field: 'fileName', label: 'File' },
];

export function Worklist({ onOpen }: { onOpen: (imageId: number) => void }): ReactNode {
  const [search, setSearch] = useState('');
  const [stage, setStage] = useState<ListStudiesRequest['stage']>(undefined);
  const [review, setReview] = useState<ReviewStatus | undefined>(undefined);
  const [sort, setSort] = useState<Sort>({ field: 'updatedAt', dir: 'desc' });
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<ListStudiesResponse | null>(null);
  const [cursor, setCursor] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [spacing, setSpacing] = useState('');
  const [importing, setImporting] = useState<ImportProgress | null>(null);
  const [batch, setBatch] = useState<BatchProgress | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const cancelImport = useRef(false);
  const tableRef = useRef<HTMLTableSectionElement>(null);

  const refresh = useCallback(async () => {
    const request: ListStudiesRequest = { offset, limit: PAGE_SIZE, sort };
    if (search.trim()) request.search = search.trim();
    if (stage) request.stage = stage;
    if (review) request.reviewStatus = review;
    const r = await api.listStudies(request);
    if (!r.ok) { setError(r.error.message); return; }
    setError(null);
    setPage(r.value);
    setCursor((c) => Math.min(c, Math.max(0, r.value.rows.length - 1)));
  }, [offset, sort, search, stage, review]);

  useEffect(() => { void refresh(); }, [refresh]);

  useEffect(() => {
    const offProgress = api.onEvent('analysisBatchProgress', (p) => setBatch(p));
    const offFinished = api.onEvent('analysisBatchDone', (f: BatchFinished) => {
      setBatch(null);
      setNotice(`${f.cancelled ? 'Analysis cancelled' : 'Analysis finished'}: ${f.done} of ${f.total} studies${f.items.some((i) => !i.ok) ? `, ${f.items.filter((i) => !i.ok).length} failed` : ''}.`);
      void refresh();
    });
    return () => { offProgress(); offFinished(); };
  }, [refresh]);

  const importFiles = useCallback(async (files: readonly File[]) => {
    const candidates = files.filter((f) => isCandidateFile(f.name));
    if (candidates.length === 0) { setNotice('No DICOM, PNG or JPEG files found.'); return; }
    const spacingMm = spacing.trim() ? Number(spacing.replace(',', '.')) : undefined;
    if (spacingMm !== undefined && (!Number.isFinite(spacingMm) || spacingMm <= 0)) {
      setNotice('The spacing for PNG/JPEG must be a positive number of mm per pixel.');
      return;
    }
    cancelImport.current = false;
    const failures: string[] = [];
    const damaged: string[] = [];
    let lastImageId: number | null = null;
    let imported = 0;
    for (let i = 0; i < candidates.length; i++) {
      if (cancelImport.current) break;
      const file = candidates[i]!;
      setImporting({ done: i, total: candidates.length, current: file.name, failures });
      const bytes = new Uint8Array(await file.arrayBuffer());
      const r = await api.importFiles({ files: [{ name: file.name, bytes }], ...(spacingMm !== undefined ? { spacingMm } : {}) });
      if (!r.ok) { failures.push(`${file.name}: ${r.error.message}`); continue; }
      for (const item of r.value.results) {
        if (item.ok) { lastImageId = item.imageId; imported += 1; damaged.push(...(item.warnings ?? [])); } else failures.push(item.error.message);
      }
    }
    setImporting(null);
    setNotice(`${cancelImport.current ? 'Import cancelled. ' : ''}Imported ${imported} of ${candidates.length} file(s).${failures.length ? ` ${failures.length} refused: ${failures.slice(0, 3).join(' · ')}${failures.length > 3 ? ' …' : ''}` : ''}${damaged.length ? ` Imported with warnings: ${damaged.slice(0, 3).join(' · ')}${damaged.length > 3 ? ' …' : ''}` : ''}`);
    await refresh();
    if (candidates.length === 1 && lastImageId !== null) onOpen(lastImageId);
  }, [spacing, refresh, onOpen]);

  const analyzeAll = useCallback(async () => {
    const ids = page?.rows.filter((r) => r.stageLabel === null).map((r) => r.imageId) ?? [];
    if (ids.length === 0) { setNotice('Every study on this page has landmarks already.'); return; }
    const r = await api.analyzeBatch({ imageIds: ids });
    if (!r.ok) setNotice(r.error.message);
    else setBatch({ batchId: r.value.batchId, done: 0, total: r.value.total, failed: 0, current: null, etaMs: null });
  }, [page]);

  const onKeyDown = (e: React.KeyboardEvent): void => {
    if (!page || page.rows.length === 0) return;
    if (e.key === 'ArrowDown') { setCursor((c) => Math.min(page.rows.length - 1, c + 1)); e.preventDefault(); }
    if (e.key === 'ArrowUp') { setCursor((c) => Math.max(0, c - 1)); e.preventDefault(); }
    if (e.key === 'Enter') { const row = page.rows[cursor]; if (row) onOpen(row.imageId); e.preventDefault(); }
  };

  useEffect(() => {
    tableRef.current?.querySelector<HTMLElement>(`[data-row="${cursor}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [cursor]);

  const toggleSort = (field: StudySortField): void => {
    setSort((s) => (s.field === field ? { field, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { field, dir: 'asc' }));
    setOffset(0);
  };

  return (
    <div className="worklist" onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => { e.preventDefault(); void importFiles([...e.dataTransfer.files]); }}>
      <div className="worklist-bar" role="search">
        <input type="search" placeholder="Search patient, ID or file" aria-label="Search" data-testid="worklist-search"
          value={search} onChange={(e) => { setSearch(e.target.value); setOffset(0); }} />
        <label className="inline">Stage
          <select value={stage ?? ''} onChange={(e) => { setStage((e.target.value || undefined) as ListStudiesRequest['stage']); setOffset(0); }} data-testid="filter-stage">
            <option value="">all</option>
            {STAGE_CODES.map((s) => <option key={s} value={s}>{s}</option>)}
            <option value="no-fit">no stage fits</option>
            <option value="none">not staged</option>
          </select>
        </label>
        <label className="inline">Review
          <select value={review ?? ''} onChange={(e) => { setReview((e.target.value || undefined) as ReviewStatus | undefined); setOffset(0); }} data-testid="filter-review">
            <option value="">all</option>
            {REVIEW_STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <span className="spacer" />
        <label className="inline" title="Used for PNG and JPEG files, which carry no spacing">PNG/JPEG spacing
          <input className="narrow" inputMode="decimal" placeholder="mm/px" aria-label="Pixel spacing for PNG and JPEG imports, mm per pixel"
            value={spacing} onChange={(e) => setSpacing(e.target.value)} data-testid="import-spacing" />
        </label>
        <label className="button">Import files…
          <input type="file" multiple hidden data-testid="import-files" accept=".dcm,.dicom,.dic,.png,.jpg,.jpeg,.tif,.tiff,application/dicom,image/png,image/jpeg,image/tiff"
            onChange={(e) => { const f = [...(e.target.files ?? [])]; e.target.value = ''; void importFiles(f); }} />
        </label>
        <label className="button">Import folder…
          <input type="file" hidden data-testid="import-folder" {...{ webkitdirectory: '' }}
            onChange={(e) => { const f = [...(e.target.files ?? [])]; e.target.value = ''; void importFiles(f); }} />
        </label>
        <button type="button" onClick={() => void analyzeAll()} disabled={batch !== null} data-testid="analyze-all">Analyze unstaged</button>
      </div>
      {importing && (
        <div className="progress" role="status" data-testid="import-progress">
          <progress max={importing.total} value={importing.done} aria-label="Import progress" />
          <span>Importing {importing.done + 1} of {importing.total}: {importing.current}</span>
          <button type="button" onClick={() => { cancelImport.current = true; }}>Cancel</button>
        </div>
      )}
      {batch && (
        <div className="progress" role="status" data-testid="batch-progress">
          <progress max={batch.total} value={batch.done} aria-label="Analysis progress" />
          <span>Analysing {Math.min(batch.done + 1, batch.total)} of {batch.total}{batch.current ? `: ${batch.current}` : ''}
            {batch.etaMs !== null ? ` · about ${Math.ceil(batch.etaMs / 1000)} s left` : ''}</span>
          <button type="button" onClick={() => void api.cancelBatch({ batchId: batch.batchId })}>Cancel</button>
        </div>
      )}
      {notice && <div className="message" role="status" data-testid="worklist-notice">{notice}</div>}
      {error && <div className="error" role="alert">{error}</div>}
      <div className="table-wrap" tabIndex={0} onKeyDown={onKeyDown} aria-label="Studies: arrow keys move, Enter opens" data-testid="worklist">
        <table className="studies">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.field} scope="col" aria-sort={sort.field === c.field ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
                  <button type="button" className="th-button" onClick={() => toggleSort(c.field)}>
                    {c.label}{sort.field === c.field ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody ref={tableRef}>
            {page?.rows.map((r, i) => (
              <tr key={r.imageId} data-row={i} data-testid={`worklist-row-${r.imageId}`} className={i === cursor ? 'cursor' : ''}
                onClick={() => setCursor(i)} onDoubleClick={() => onOpen(r.imageId)}>
                <td><button type="button" className="link" onClick={() => onOpen(r.imageId)}>{r.patientName ?? <span className="muted">{r.fileName}</span>}</button></td>
                <td>{r.patientId ?? '—'}</td>
                <td className="num">{r.studyDate ?? '—'}</td>
                <td className="num">{r.ageYears !== null ? r.ageYears.toFixed(1) : '—'}</td>
                <td className={r.borderline || r.stageLabel?.startsWith('no stage') ? 'warn-text' : ''}>{r.stageLabel ?? '—'}</td>
                <td><span className={`review ${r.reviewStatus}`}>{r.reviewStatus}{r.reviewedBy && r.reviewStatus === 'approved' ? ` (${r.reviewedBy})` : ''}</span></td>
                <td className="num">{r.minConfidence !== null ? r.minConfidence.toFixed(2) : '—'}</td>
                <td className="muted">{r.fileName}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.total === 0 && <div className="empty">No studies{search || stage || review ? ' match these filters' : ' yet: import DICOM, PNG, JPEG or TIFF files, or drop them here'}.</div>}
      </div>
      {page && (
        <div className="pager">
          <span data-testid="worklist-total">{page.total} studies</span>
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>Previous</button>
          <span>{page.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE_SIZE, page.total)}</span>
          <button type="button" disabled={offset + PAGE_SIZE >= page.total} onClick={() => setOffset(offset + PAGE_SIZE)}>Next</button>
        </div>
      )}
    </div>
  );
}
