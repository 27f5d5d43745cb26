/**
 * A cephalogram the radiograph-kind model misjudges and the landmark model does not: ISBI 001 at half resolution in
 * the middle of a black canvas of the film's own size (its 0.1 mm pixels become 0.2 mm). radiograph-kind 1.2.0 judges
 * the whole frame at 100 x 100 pixels and calls it a hand (P 0.80-0.81); the landmark pipeline leaves the uniform
 * frame out and finds the C2-C4 column. Used by the pull's and the bone age's second-opinion tests.
 */
import { readFileSync } from 'node:fs';
import { decodeImageFile } from '../main/dicom/index';
import { el } from '../main/dicom/writer';
import { grey8Dicom } from './dicom/helpers';
import { sharedPath } from './shared-data';

/** ISBI 001 (0.1 mm per pixel) as 8-bit grey. */
export async function isbi001Grey(): Promise<{ grey: Uint8Array; width: number; height: number }> {
  const jpeg = await decodeImageFile('001.jpg', readFileSync(sharedPath('isbi2015', 'images', '001.jpg')));
  const { width, height, data } = jpeg.pixels;
  return { grey: Uint8Array.from(data, (v) => Math.round(v / 257)), width, height };
}

/** 8-bit grey pixels, halved (2 x 2 means) and centred on a black canvas of the same width and height. */
export function halfSizeOnCanvas(grey: Uint8Array, width: number, height: number): Uint8Array {
  const half = { width: Math.floor(width / 2), height: Math.floor(height / 2) };
  const canvas = new Uint8Array(width * height);
  const x0 = Math.floor((width - half.width) / 2);
  const y0 = Math.floor((height - half.height) / 2);
  const at = (x: number, y: number): number => grey[y * width + x] ?? 0;
  for (let y = 0; y < half.height; y++)
    for (let x = 0; x < half.width; x++)
      canvas[(y0 + y) * width + x0 + x] = Math.round(
        (at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1)) / 4,
      );
  return canvas;
}

/** The canvas as an 8-bit CR DICOM file of a girl (PatientSex F), 0.2 mm pixels, without a body part. */
export async function cephalogramOnCanvasDicom(): Promise<Uint8Array> {
  const { grey, width, height } = await isbi001Grey();
  const header = [
    el(0x0008, 0x0018, 'UI', '1.2.826.0.1.3680043.10.3.78'),
    el(0x0008, 0x0060, 'CS', 'CR'),
    el(0x0010, 0x0020, 'LO', 'CANVAS-1'),
    el(0x0010, 0x0040, 'CS', 'F'),
    el(0x0028, 0x0030, 'DS', '0.2\\0.2'),
  ];
  return grey8Dicom(header, halfSizeOnCanvas(grey, width, height), width, height);
}
