/**
 * A process that decodes one image compiles the grey JPEG module to baseline code only
 * (main/dicom/wasm-compilation.ts): the pixels are the same as with V8's default compilation, the module is
 * compiled that way only once it is asked for, and the command line's one-image paths ask for it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OpenedImage } from '../../core/api/image';
import { decodeImageFile } from '../../main/dicom/index';
import { jpegGreyCompilation, unloadJpegGreyModule } from '../../main/dicom/jpeg-grey';
import { openImageFile } from '../../main/services/files';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { FIXTURES } from './helpers';

/** The decode's report with its pixels replaced by their SHA-256 (a deep compare of 4.6 million values is slow). */
function digest(image: OpenedImage): object {
  const data = image.pixels.data;
  const hash = createHash('sha256')
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest('hex');
  return { ...image, pixels: { ...image.pixels, data: `${data.length} values, sha256 ${hash}` } };
}

const files = [
  path.join(FIXTURES, 'grey.jpg'),
  path.join(FIXTURES, 'grey-as-rgb.jpg'),
  ...(HAS_SHARED_DATA ? [sharedPath('isbi2015', 'images', '001.jpg')] : []),
];

describe('grey JPEG module compiled to baseline code for a single decode', () => {
  it('gives the same pixels and windows as the default compilation, and is used only once asked for', async () => {
    unloadJpegGreyModule();
    const byDefault: object[] = [];
    for (const file of files) byDefault.push(digest(await decodeImageFile(path.basename(file), readFileSync(file))));
    expect(jpegGreyCompilation()).toBe('default');

    // What `cvm analyze` of one file does: decode it in this thread as its only image.
    unloadJpegGreyModule();
    const first = await openImageFile(files[0] as string, { oneImage: true });
    expect(jpegGreyCompilation()).toBe('baseline');
    expect(digest(first)).toEqual(byDefault[0]);
    for (const [i, file] of files.entries()) {
      const again = await decodeImageFile(path.basename(file), readFileSync(file));
      expect(digest(again), path.basename(file)).toEqual(byDefault[i]);
    }
    expect(jpegGreyCompilation()).toBe('baseline');
  }, 60_000);
});
