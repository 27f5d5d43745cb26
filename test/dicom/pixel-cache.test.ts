/**
 * Decode once: the derived pixel copy written at import is exact, hash-checked, used instead of decoding
 * the stored file again, made again when missing or damaged, and pruned with images a restore drops.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeDerivedPixels,
  derivedPixelsPath,
  encodeDerivedPixels,
  pruneDerivedPixels,
  readDerivedPixels,
} from '../../main/dicom/pixel-cache';
import type { ServiceContext } from '../../main/services/context';
import { backupDatabase, restoreDatabase } from '../../main/services/backup';
import { closeStudyStores, importFile, loadImagePixels, storeFor } from '../../main/services/studies';
import { HAS_SHARED_DATA, SKIP_NO_SHARED, sharedPath } from '../shared-data';
import { tempDir } from '../store/helpers';
import { FIXTURES, countDifferences, openFixture, openFile, withExifOrientation } from './helpers';
import { decodeImageFile } from '../../main/dicom/index';
import { writeTiff } from './tiff-writer';

afterEach(() => closeStudyStores());

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const context = (dataDir: string): ServiceContext => ({ mode: 'cli', dataDir, appVersion: 'test', emit: () => {} });

/** Opens a stored image in a new session after removing its pixel copy (a restore does not carry them). */
async function reopenWithoutCopy(dataDir: string, imageId: number, file: Uint8Array) {
  rmSync(derivedPixelsPath(dataDir, sha(file)));
  closeStudyStores();
  return loadImagePixels(storeFor(context(dataDir)), imageId);
}

/** The image's record as a version before 2026-12-04 wrote it: the size then shown, without `field` in its info. */
function recordAsBefore(dataDir: string, imageId: number, [width, height]: [number, number], field: string): void {
  const db = storeFor(context(dataDir)).db;
  db.prepare('UPDATE images SET width = ?, height = ? WHERE id = ?').run(width, height, imageId);
  db.prepare('UPDATE image_info SET info_json = json_remove(info_json, ?) WHERE image_ref = ?').run(
    `$.${field}`,
    imageId,
  );
}

describe('derived pixel copies', () => {
  it.each(['syntax-j2k-lossless.dcm', 'mono1.dcm', 'modality-lut.dcm', 'grey16.png', 'grey-as-rgb.jpg'])(
    '%s: the copy gives back the same pixels, windows and info',
    async (name) => {
      const image = await openFixture(name);
      const source = sha(readFileSync(path.join(FIXTURES, name)));
      const back = decodeDerivedPixels(encodeDerivedPixels(image, source), source);
      if (typeof back === 'string') throw new Error(back);
      expect(countDifferences(back.pixels.data, image.pixels.data)).toBe(0);
      const { data: _a, ...pixels } = image.pixels;
      const { data: _b, ...backPixels } = back.pixels;
      expect(backPixels).toEqual(pixels);
      expect(back.info).toEqual(image.info);
    },
  );

  it('a copy with a changed byte, cut short or made from another file is not used', async () => {
    const image = await openFixture('mono2.dcm');
    const bytes = encodeDerivedPixels(image, 'a'.repeat(64));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 10]! ^= 0x40;
    expect(decodeDerivedPixels(flipped, 'a'.repeat(64))).toBe('damaged');
    expect(decodeDerivedPixels(bytes.subarray(0, bytes.length - 1), 'a'.repeat(64))).toBe('damaged');
    expect(decodeDerivedPixels(bytes.subarray(0, 8), 'a'.repeat(64))).toBe('damaged');
    expect(decodeDerivedPixels(bytes, 'b'.repeat(64))).toBe('other-source');
  });

  it('import writes the copy; opening the stored image reads it instead of decoding the file', async () => {
    const dataDir = tempDir();
    const bytes = readFileSync(path.join(FIXTURES, 'syntax-j2k-lossless.dcm'));
    const result = await importFile(storeFor(context(dataDir)), 'j2k.dcm', bytes, { author: 'dr a' });
    if (!result.ok) throw new Error(result.error.message);
    const file = derivedPixelsPath(dataDir, sha(bytes));
    expect(existsSync(file)).toBe(true);
    // Replace the copy by one of a visibly different image (valid, same source hash): what comes back must be it.
    const original = await openFixture('syntax-j2k-lossless.dcm');
    const marked = new Uint16Array(original.pixels.data);
    marked[0] = marked[0] === 12345 ? 54321 : 12345;
    writeFileSync(file, encodeDerivedPixels({ ...original, pixels: { ...original.pixels, data: marked } }, sha(bytes)));
    closeStudyStores(); // a new session: nothing in memory
    const opened = await loadImagePixels(storeFor(context(dataDir)), result.imageId);
    expect(opened.pixels.data[0]).toBe(marked[0]);
  });

  it.each([
    [6, 'a quarter turn', [48, 64]],
    [3, 'a half turn', [64, 48]],
    [2, 'a mirror', [64, 48]],
  ] as const)(
    'Orientation %i (%s): a copy made again is turned as at import; before tags were applied, as stored',
    async (tag, _what, shownSize) => {
      const dataDir = tempDir();
      const tagged = withExifOrientation(readFileSync(path.join(FIXTURES, 'grey.jpg')), tag); // 64 x 48 as stored
      const result = await importFile(storeFor(context(dataDir)), 'tagged.jpg', tagged, { author: 'dr a' });
      if (!result.ok) throw new Error(result.error.message);
      const shown = await loadImagePixels(storeFor(context(dataDir)), result.imageId);
      const asTagged = await decodeImageFile('tagged.jpg', tagged);
      const asStored = await decodeImageFile('tagged.jpg', tagged, { ignoreOrientationTag: true });
      expect([shown.pixels.width, shown.pixels.height]).toEqual(shownSize);
      expect(countDifferences(shown.pixels.data, asTagged.pixels.data)).toBe(0);
      expect(countDifferences(asTagged.pixels.data, asStored.pixels.data)).toBeGreaterThan(0);
      // Its pixel copy gone (a restore does not carry them): made again turned, as the user saw it at import.
      const rebuilt = await reopenWithoutCopy(dataDir, result.imageId, tagged);
      expect(countDifferences(rebuilt.pixels.data, asTagged.pixels.data)).toBe(0);
      // As an older version recorded it: the size as stored, no turn in its information.
      recordAsBefore(dataDir, result.imageId, [64, 48], 'turnedByTag');
      const legacy = await reopenWithoutCopy(dataDir, result.imageId, tagged);
      expect([legacy.pixels.width, legacy.pixels.height]).toEqual([64, 48]);
      expect(countDifferences(legacy.pixels.data, asStored.pixels.data)).toBe(0);
      const copy = readDerivedPixels(dataDir, sha(tagged)); // made again as stored, for the next opening
      if (typeof copy === 'string') throw new Error(copy);
      expect(countDifferences(copy.pixels.data, asStored.pixels.data)).toBe(0);
    },
  );

  it('a multi-page TIFF: a copy made again shows the page chosen at import; before pages were walked, the first', async () => {
    const dataDir = tempDir();
    const preview = Uint16Array.from({ length: 20 * 10 }, (_, i) => (i * 37) & 0xfff);
    const full = Uint16Array.from({ length: 40 * 30 }, (_, i) => (i * 91 + 7) & 0xfff);
    const bytes = writeTiff([
      { width: 20, height: 10, bits: 16, data: preview, extraTags: new Map([[254, [1]]]) },
      { width: 40, height: 30, bits: 16, data: full },
    ]);
    const result = await importFile(storeFor(context(dataDir)), 'scan.tif', bytes, { author: 'dr a' });
    if (!result.ok) throw new Error(result.error.message);
    const shown = await loadImagePixels(storeFor(context(dataDir)), result.imageId);
    expect([shown.pixels.width, shown.pixels.height]).toEqual([40, 30]);
    const rebuilt = await reopenWithoutCopy(dataDir, result.imageId, bytes);
    expect(countDifferences(rebuilt.pixels.data, full)).toBe(0);
    // As an older version recorded it: its first page's size, no page in its information.
    recordAsBefore(dataDir, result.imageId, [20, 10], 'pageShown');
    const legacy = await reopenWithoutCopy(dataDir, result.imageId, bytes);
    expect([legacy.pixels.width, legacy.pixels.height]).toEqual([20, 10]);
    expect(countDifferences(legacy.pixels.data, preview)).toBe(0);
  });

  it('a missing or damaged copy is made again from the stored file, with the same pixels', async () => {
    const dataDir = tempDir();
    const bytes = readFileSync(path.join(FIXTURES, 'syntax-j2k.dcm'));
    const result = await importFile(storeFor(context(dataDir)), 'j2k.dcm', bytes, { author: 'dr a' });
    if (!result.ok) throw new Error(result.error.message);
    const expected = await openFixture('syntax-j2k.dcm');
    const file = derivedPixelsPath(dataDir, sha(bytes));
    for (const damage of [() => rmSync(file), () => writeFileSync(file, readFileSync(file).subarray(0, 100))]) {
      damage();
      closeStudyStores();
      const opened = await loadImagePixels(storeFor(context(dataDir)), result.imageId);
      expect(countDifferences(opened.pixels.data, expected.pixels.data)).toBe(0);
      expect(typeof readDerivedPixels(dataDir, sha(bytes))).toBe('object');
    }
  });

  it('the stored file stays the record: opening fails when it is gone, even with a copy', async () => {
    const dataDir = tempDir();
    const bytes = readFileSync(path.join(FIXTURES, 'mono2.dcm'));
    const result = await importFile(storeFor(context(dataDir)), 'm.dcm', bytes, { author: 'dr a' });
    if (!result.ok) throw new Error(result.error.message);
    rmSync(path.join(dataDir, 'images', readdirSync(path.join(dataDir, 'images'))[0]!));
    closeStudyStores();
    await expect(loadImagePixels(storeFor(context(dataDir)), result.imageId)).rejects.toThrow(/cannot be read/);
  });

  it('a restore removes the copies of images the restored database does not have', async () => {
    const dataDir = tempDir();
    const store = storeFor(context(dataDir));
    const first = readFileSync(path.join(FIXTURES, 'mono2.dcm'));
    await importFile(store, 'a.dcm', first, { author: 'dr a' });
    const backup = path.join(tempDir(), 'backup.sqlite');
    await backupDatabase(dataDir, backup, store);
    const second = readFileSync(path.join(FIXTURES, 'mono1.dcm'));
    await importFile(store, 'b.dcm', second, { author: 'dr a' });
    closeStudyStores();
    expect(existsSync(derivedPixelsPath(dataDir, sha(second)))).toBe(true);
    await restoreDatabase(dataDir, backup);
    expect(existsSync(derivedPixelsPath(dataDir, sha(first)))).toBe(true);
    expect(existsSync(derivedPixelsPath(dataDir, sha(second)))).toBe(false);
    expect(pruneDerivedPixels(dataDir, new Set([sha(first)]))).toBe(0);
  });
});

describe.skipIf(!HAS_SHARED_DATA)(`derived copy of a real radiograph ${SKIP_NO_SHARED}`, () => {
  it('RG2 in JPEG 2000 lossless: the copy is exact and smaller than the raw pixels', async () => {
    const file = sharedPath('dicom', 'wg04-cr', 'RG2_J2KR.dcm');
    const image = await openFile(file);
    const bytes = encodeDerivedPixels(image, sha(readFileSync(file)));
    expect(bytes.length).toBeLessThan(image.pixels.data.byteLength * 0.6);
    const back = decodeDerivedPixels(bytes, sha(readFileSync(file)));
    if (typeof back === 'string') throw new Error(back);
    expect(countDifferences(back.pixels.data, image.pixels.data)).toBe(0);
  });
});
