/**
 * The Orientation tag (274) of TIFF files and of JPEG's Exif block: the image is read as viewers show it. The
 * expected pixel moves are written here from the tag's definition (TIFF 6.0 / Exif 2.3: where the stored 0th row
 * and 0th column are shown), independently of core/inference/orientation.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { orientationOfTag } from '../../core/inference/orientation';
import { decodeImageFile } from '../../main/dicom/index';
import { readJpegExifOrientation } from '../../main/dicom/formats';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { withExifOrientation } from './helpers';
import { writeTiff } from './tiff-writer';

/** Where stored pixel (x, y) of a w x h image is shown, for each tag value; and the shown size. */
const SHOWN: Record<number, (x: number, y: number, w: number, h: number) => [number, number]> = {
  1: (x, y) => [x, y],
  2: (x, y, w) => [w - 1 - x, y], // 0th row top, 0th column right: mirrored
  3: (x, y, w, h) => [w - 1 - x, h - 1 - y], // bottom, right: turned 180°
  4: (x, y, _w, h) => [x, h - 1 - y], // bottom, left: flipped top-bottom
  5: (x, y) => [y, x], // 0th row left, 0th column top: transposed
  6: (x, y, _w, h) => [h - 1 - y, x], // 0th row right, 0th column top: turn 90° clockwise to show
  7: (x, y, w, h) => [h - 1 - y, w - 1 - x], // right, bottom: transversed
  8: (x, y, w) => [y, w - 1 - x], // left, bottom: turn 90° anticlockwise to show
};
const shownSize = (tag: number, w: number, h: number): [number, number] => (tag >= 5 ? [h, w] : [w, h]);

/** The image as shown for `tag`, by the definition above. */
function shownImage(data: Uint16Array, w: number, h: number, tag: number): Uint16Array {
  const [sw] = shownSize(tag, w, h);
  const out = new Uint16Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [X, Y] = SHOWN[tag]!(x, y, w, h);
      out[Y * sw + X] = data[y * w + x]!;
    }
  return out;
}

describe('the Orientation tag', () => {
  it('maps every value to the turn its definition says, and 1 or nonsense to none', () => {
    expect(orientationOfTag(1)).toBeNull();
    expect(orientationOfTag(0)).toBeNull();
    expect(orientationOfTag(9)).toBeNull();
  });

  for (let tag = 1; tag <= 8; tag++) {
    it(`TIFF with Orientation ${tag}: pixels and size as shown, row and column spacing swapped by a quarter turn`, async () => {
      const [w, h] = [7, 4];
      const data = Uint16Array.from({ length: w * h }, (_, i) => i * 1000);
      const bytes = writeTiff(
        [{ width: w, height: h, bits: 16, data, resolution: [254, 127, 2], extraTags: new Map([[274, [tag]]]) }],
        true,
      );
      const opened = await decodeImageFile('turned.tif', bytes);
      const [sw, sh] = shownSize(tag, w, h);
      expect([opened.pixels.width, opened.pixels.height, opened.info.width, opened.info.height]).toEqual([
        sw,
        sh,
        sw,
        sh,
      ]);
      expect(Array.from(opened.pixels.data)).toEqual(Array.from(shownImage(data, w, h, tag)));
      // 254 dpi across (0.1 mm between columns), 127 dpi down (0.2 mm between rows), as stored.
      const [colMm, rowMm] = tag >= 5 ? [0.2, 0.1] : [0.1, 0.2];
      expect(opened.info.spacing?.colMm).toBeCloseTo(colMm, 9);
      expect(opened.info.spacing?.rowMm).toBeCloseTo(rowMm, 9);
      expect(opened.info.turnedByTag).toEqual(
        tag === 1 ? undefined : expect.stringMatching(new RegExp(`as its Orientation tag \\(${tag}\\) says$`)),
      );
    });
  }

  it.skipIf(!HAS_SHARED_DATA)('JPEG with an Exif Orientation: the decoded cephalogram turned as it says', async () => {
    const jpeg = new Uint8Array(readFileSync(sharedPath('isbi2015', 'images', '001.jpg')));
    expect(readJpegExifOrientation(jpeg)).toBe(1);
    const stored = await decodeImageFile('001.jpg', jpeg);
    const { width: w, height: h } = stored.pixels;
    for (const tag of [3, 6, 8]) {
      const tagged = withExifOrientation(jpeg, tag);
      expect(readJpegExifOrientation(tagged)).toBe(tag);
      const opened = await decodeImageFile(`001-exif${tag}.jpg`, tagged);
      expect([opened.pixels.width, opened.pixels.height]).toEqual(shownSize(tag, w, h));
      expect(opened.info.turnedByTag).toBe(
        `${{ 3: 'rotated by 180°', 6: 'rotated by 90° clockwise', 8: 'rotated by 90° anticlockwise' }[tag]} as its Exif Orientation (${tag}) says`,
      );
      const expected = shownImage(stored.pixels.data, w, h, tag);
      let differing = 0; // a loop: deep equality of two 4.6-million-value arrays takes a minute
      for (let i = 0; i < expected.length; i++) if (opened.pixels.data[i] !== expected[i]) differing++;
      expect(differing).toBe(0);
    }
  });

  it('reads the tag in either byte order, and ignores an Exif block that is cut short or holds no Orientation', () => {
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]);
    const tagged = withExifOrientation(jpeg, 6);
    expect(readJpegExifOrientation(tagged)).toBe(6);
    expect(readJpegExifOrientation(withExifOrientation(jpeg, 7, true))).toBe(7);
    expect(readJpegExifOrientation(withExifOrientation(jpeg, 12))).toBe(1);
    expect(readJpegExifOrientation(tagged.subarray(0, 20))).toBe(1);
    const otherTag = tagged.slice();
    otherTag[22] = 0x01; // the entry's tag 0x0112 -> 0x0101
    otherTag[23] = 0x01;
    expect(readJpegExifOrientation(otherTag)).toBe(1);
  });
});
