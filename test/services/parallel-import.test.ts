/**
 * A batch import decodes several files at once in the decoder workers (#14.4) and still gives the results of
 * importing the files one by one: the same outcomes in the same order (a bad file failing alone, a repeated
 * file a duplicate), the same image ids and rows, the same pixels.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDecoderWorker, DecoderPool, sharedDecoderPool } from '../../main/dicom/decoder-pool';
import { closeStudyStores, importFiles, loadImagePixels, storeFor } from '../../main/services/studies';
import { FIXTURES } from '../dicom/helpers';

const NAMES = [
  'syntax-j2k-lossless.dcm',
  'syntax-jpeg-baseline.dcm',
  'truncated.dcm', // fails alone
  'syntax-jpeg-ls.dcm',
  'syntax-rle.dcm',
  'syntax-jpeg-baseline.dcm', // the same bytes again: a duplicate
  'grey16.png',
  'syntax-jpeg-lossless.dcm',
  'mono1.dcm',
  'grey.jpg',
];
const files = NAMES.map((name) => ({ name, path: path.join(FIXTURES, name) }));
const dirs: string[] = [];
let savedWorkers: string | undefined;

beforeAll(async () => {
  savedWorkers = process.env.CVM_DECODE_WORKERS;
  process.env.CVM_DECODE_WORKERS = '3';
  await closeDecoderWorker(); // the shared pool is made again with 3 workers
});

afterAll(async () => {
  if (savedWorkers === undefined) delete process.env.CVM_DECODE_WORKERS;
  else process.env.CVM_DECODE_WORKERS = savedWorkers;
  closeStudyStores();
  await closeDecoderWorker();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function importInto(parallel: number) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `cvm-parallel-${parallel}-`));
  dirs.push(dataDir);
  const store = storeFor({ dataDir, mode: 'cli' });
  const progress: number[] = [];
  const results = await importFiles(store, files, { author: 'test' }, (p) => progress.push(p.done), parallel);
  // One at a time, so that only the import itself can have started more than one decoder worker.
  const pixels: Array<string | null> = [];
  for (const r of results) {
    if (!r.ok) pixels.push(null);
    else
      pixels.push(
        createHash('sha256')
          .update((await loadImagePixels(store, r.imageId)).pixels.data)
          .digest('hex'),
      );
  }
  const rows = results.map((r) => (r.ok ? store.imageRow(r.imageId) : null));
  return { results, pixels, rows, progress };
}

describe('parallel decoding in a batch import', () => {
  it('decodes several files at once when asked for several, and one worker otherwise', async () => {
    const pool = new DecoderPool(undefined, 3);
    try {
      await pool.decode('mono1.dcm', readFileSync(path.join(FIXTURES, 'mono1.dcm')));
      await pool.decode('mono2.dcm', readFileSync(path.join(FIXTURES, 'mono2.dcm')));
      expect(pool.running).toBe(1);
      await Promise.all(
        ['syntax-rle.dcm', 'syntax-jpeg-ls.dcm', 'grey.jpg'].map((n) =>
          pool.decode(n, readFileSync(path.join(FIXTURES, n))),
        ),
      );
      expect(pool.running).toBe(3);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it('gives the same outcomes, rows and pixels as importing one file at a time', async () => {
    const one = await importInto(1);
    const many = await importInto(4);
    expect(sharedDecoderPool().size).toBe(3);
    expect(sharedDecoderPool().running).toBeGreaterThan(1); // the batch did decode in parallel
    expect(many.progress).toEqual(NAMES.map((_, i) => i + 1));
    const outcome = (r: (typeof one.results)[number]) =>
      r.ok ? { ok: true, imageId: r.imageId, duplicate: r.duplicate ?? false } : { ok: false, code: r.error.code };
    expect(many.results.map(outcome)).toEqual(one.results.map(outcome));
    expect(one.results[2]).toMatchObject({ ok: false });
    expect(one.results[5]).toMatchObject({ ok: true, duplicate: true });
    expect(many.pixels).toEqual(one.pixels);
    const comparable = (row: (typeof one.rows)[number]) =>
      row && {
        sha256: row.sha256,
        stored_path: row.stored_path,
        original_name: row.original_name,
        byte_size: row.byte_size,
      };
    expect(many.rows.map(comparable)).toEqual(one.rows.map(comparable));
  }, 300_000);
});
