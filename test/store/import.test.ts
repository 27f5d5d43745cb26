import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceContext } from '../../main/services/context';
import { closeStudyStores, importFile, loadImagePixels, storeFor, studyHandlers } from '../../main/services/studies';
import { HAS_SHARED_DATA, SKIP_NO_SHARED, sharedPath } from '../shared-data';
import { tempDir } from './helpers';
import { makePng } from './png';

afterEach(() => closeStudyStores());

function context(dataDir: string): ServiceContext {
  return { mode: 'cli', dataDir, appVersion: 'test', emit: () => {} };
}

const storedImages = (dataDir: string): string[] => readdirSync(path.join(dataDir, 'images')).sort();

describe('import', () => {
  it('importing the same bytes twice gives the same image and stores one copy', async () => {
    const dataDir = tempDir();
    const store = storeFor(context(dataDir));
    const png = makePng(64, 48, 1);
    const first = await importFile(store, '/somewhere/a.png', png, { author: 'dr a' });
    const again = await importFile(store, '/elsewhere/renamed.png', png, { author: 'dr a' });
    expect(first).toMatchObject({ ok: true, duplicate: false, fileName: 'a.png' });
    expect(again).toMatchObject({ ok: true, duplicate: true });
    if (!first.ok || !again.ok) throw new Error('import failed');
    expect(again.imageId).toBe(first.imageId);
    expect(storedImages(dataDir)).toHaveLength(1);
    expect(store.listStudies({ offset: 0, limit: 10 }).total).toBe(1);
  });

  it('the stored copy is named by its content hash and equals the imported bytes', async () => {
    const dataDir = tempDir();
    const store = storeFor(context(dataDir));
    const png = makePng(32, 32, 2);
    const result = await importFile(store, 'b.png', png, { author: 'dr a' });
    if (!result.ok) throw new Error(result.error.message);
    const detail = store.loadStudy(result.imageId);
    expect(storedImages(dataDir)).toEqual([`${detail.sha256}.png`]);
    expect(readFileSync(path.join(dataDir, 'images', `${detail.sha256}.png`)).equals(png)).toBe(true);
  });

  it('a file that does not decode is reported by name and leaves nothing behind', async () => {
    const dataDir = tempDir();
    const store = storeFor(context(dataDir));
    const result = await importFile(store, 'notes.txt', new TextEncoder().encode('not an image at all'), {
      author: 'dr a',
    });
    expect(result).toMatchObject({ ok: false, fileName: 'notes.txt' });
    if (result.ok) throw new Error('expected a failure');
    expect(result.error.message).toContain('notes.txt');
    expect(storedImages(dataDir)).toEqual([]);
    expect(store.listStudies({ offset: 0, limit: 10 }).total).toBe(0);
  });

  it('a batch import goes on past a bad file and reports each file', async () => {
    const dataDir = tempDir();
    const events: unknown[] = [];
    const handlers = studyHandlers({ ...context(dataDir), emit: (name, payload) => events.push([name, payload]) });
    const files = [
      { name: 'one.png', bytes: makePng(16, 16, 3) },
      { name: 'broken.png', bytes: makePng(16, 16, 4).subarray(0, 40) },
      { name: 'two.png', bytes: makePng(16, 16, 5) },
      { name: 'one-again.png', bytes: makePng(16, 16, 3) },
    ];
    const result = await handlers.importFiles({ files, spacingMm: 0.1 });
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.results.map((r) => [r.fileName, r.ok, r.ok && r.duplicate])).toEqual([
      ['one.png', true, false],
      ['broken.png', false, false],
      ['two.png', true, false],
      ['one-again.png', true, true],
    ]);
    expect(storedImages(dataDir)).toHaveLength(2);
    expect(events.at(-1)).toEqual(['importProgress', { done: 4, total: 4, fileName: 'one-again.png' }]);
  });

  it('a PNG imported with a spacing gets it as an entered calibration', async () => {
    const handlers = studyHandlers(context(tempDir()));
    const result = await handlers.importFiles({
      files: [{ name: 'c.png', bytes: makePng(20, 20, 6) }],
      spacingMm: 0.12,
    });
    if (!result.ok || !result.value.results[0]!.ok) throw new Error('import failed');
    const study = await handlers.loadStudy({ imageId: result.value.results[0]!.imageId });
    if (!study.ok) throw new Error(study.error.message);
    expect(study.value.info.spacing).toMatchObject({ rowMm: 0.12, colMm: 0.12, source: 'entered' });
    expect(study.value.fileSpacing).toBeNull();
    expect(study.value.calibration).toMatchObject({ method: 'entered' });
  });

  it('loading the pixels of a stored image decodes the stored copy, with the effective spacing', async () => {
    const dataDir = tempDir();
    const store = storeFor(context(dataDir));
    const result = await importFile(store, 'd.png', makePng(40, 30, 7), { author: 'dr a', spacingMm: 0.2 });
    if (!result.ok) throw new Error(result.error.message);
    closeStudyStores(); // a new process: nothing cached
    const reopened = storeFor(context(dataDir));
    const opened = await loadImagePixels(reopened, result.imageId);
    expect([opened.pixels.width, opened.pixels.height]).toEqual([40, 30]);
    expect(opened.info.spacing?.rowMm).toBe(0.2);
  });

  it('an unknown image id is a not-found error value', async () => {
    const handlers = studyHandlers(context(tempDir()));
    expect(await handlers.loadStudy({ imageId: 99 })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

describe.skipIf(!HAS_SHARED_DATA)(`import of real files ${SKIP_NO_SHARED}`, () => {
  it('a DICOM file keeps its file spacing and source; a JPEG without spacing has none', async () => {
    const dataDir = tempDir();
    const store = storeFor(context(dataDir));
    const dicom = await importFile(store, 'RG2_UNC.dcm', readFileSync(sharedPath('dicom', 'wg04-cr', 'RG2_UNC.dcm')), {
      author: 'dr a',
    });
    const jpeg = await importFile(store, '001.jpg', readFileSync(sharedPath('isbi2015', 'images', '001.jpg')), {
      author: 'dr a',
    });
    if (!dicom.ok || !jpeg.ok) throw new Error('import failed');
    expect(store.loadStudy(dicom.imageId).info.spacing).toMatchObject({ rowMm: 0.2, colMm: 0.2 });
    expect(store.loadStudy(dicom.imageId).info.format).toBe('dicom');
    expect(store.loadStudy(jpeg.imageId).info.spacing).toBeNull();
    expect(
      storedImages(dataDir)
        .map((f) => path.extname(f))
        .sort(),
    ).toEqual(['.dcm', '.jpg']);
  });
});
