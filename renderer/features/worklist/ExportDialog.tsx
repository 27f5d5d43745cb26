/**
 * Export of the data set from the UI: the same files `cvm export` writes, into a folder of the user's choice, with
 * progress.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { api } from '../../api';
import { Choice } from '../Choice';
import { Dialog } from '../Dialog';
import { Notice, type NoticeState } from '../Notice';
import { plural } from '../format';

export function ExportDialog({ onClose }: { onClose: () => void }): ReactNode {
  const [format, setFormat] = useState<'cvm13' | 'csv'>('cvm13');
  const [approvedOnly, setApprovedOnly] = useState(true);
  const [copyImages, setCopyImages] = useState(true);
  const [folder, setFolder] = useState('');
  const [defaultFolder, setDefaultFolder] = useState('');
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<NoticeState | null>(null);

  useEffect(() => {
    void api.appInfo({}).then((r) => {
      if (r.ok) setDefaultFolder(`${r.value.dataDir}${r.value.dataDir.includes('\\') ? '\\' : '/'}exports`);
    });
    return api.onEvent('exportProgress', (p) => setProgress(p));
  }, []);

  const run = async (): Promise<void> => {
    setBusy(true);
    setResult(null);
    setProgress(null);
    const r = await api.exportDataset({
      format,
      approvedOnly,
      ...(folder.trim() ? { folder: folder.trim() } : {}),
      ...(format === 'cvm13' ? { copyImages } : {}),
    });
    setBusy(false);
    setResult(
      r.ok
        ? {
            kind: r.value.count > 0 ? 'info' : 'warning',
            text: `Wrote ${plural(r.value.count, format === 'cvm13' ? 'landmark set' : 'row')} to ${r.value.file}.`,
          }
        : { kind: 'error', text: r.error.message },
    );
  };

  return (
    <Dialog title="Export the data set" onClose={onClose} testId="export-dialog">
      <fieldset>
        <legend>Format</legend>
        <Choice
          type="radio"
          name="format"
          checked={format === 'cvm13'}
          onChange={() => setFormat('cvm13')}
          autoFocus
          testId="export-format-cvm13"
        >
          cvm13 JSON: landmark sets for training a model
        </Choice>
        <Choice
          type="radio"
          name="format"
          checked={format === 'csv'}
          onChange={() => setFormat('csv')}
          testId="export-format-csv"
        >
          CSV: stages and measurements for research (no names or IDs)
        </Choice>
      </fieldset>
      <fieldset>
        <legend>Studies</legend>
        <Choice
          type="radio"
          name="scope"
          checked={approvedOnly}
          onChange={() => setApprovedOnly(true)}
          testId="export-approved"
        >
          approved only
        </Choice>
        <Choice
          type="radio"
          name="scope"
          checked={!approvedOnly}
          onChange={() => setApprovedOnly(false)}
          testId="export-all"
        >
          all with landmarks
        </Choice>
      </fieldset>
      {format === 'cvm13' && (
        <Choice type="checkbox" checked={copyImages} onChange={setCopyImages} testId="export-copy-images">
          copy the images beside the file (otherwise the file points into the data folder)
        </Choice>
      )}
      <label>
        Folder (full path)
        <input
          value={folder}
          onChange={(e) => setFolder(e.target.value)}
          placeholder={defaultFolder || 'the data folder’s exports folder'}
          data-testid="export-folder"
          spellCheck={false}
        />
      </label>
      {progress && busy && (
        <div role="status" className="progress-inline">
          <progress max={progress.total} value={progress.done} aria-label="Export progress" /> {progress.done} of{' '}
          {progress.total}
        </div>
      )}
      {result && <Notice notice={result} testId="export-result" />}
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
        <button type="button" className="primary" onClick={() => void run()} disabled={busy} data-testid="export-run">
          {busy ? 'Exporting…' : 'Export'}
        </button>
      </div>
    </Dialog>
  );
}
