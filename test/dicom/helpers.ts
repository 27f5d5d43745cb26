import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImagePixels, OpenedImage } from '../../core/api/image';
import { decodeImageFile, ImageDecodeError } from '../../main/dicom/index';
import { el, writeDicom, type DicomElement } from '../../main/dicom/writer';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'dicom');

/**
 * An 8-bit MONOCHROME2 image as a DICOM file (SOP class CR): `header`'s elements (instance UID, patient, spacing, ...)
 * and the image pixel module around `grey` (width x height values).
 */
export function grey8Dicom(
  header: readonly DicomElement[],
  grey: Uint8Array,
  width: number,
  height: number,
): Uint8Array {
  return writeDicom([
    el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
    ...header,
    el(0x0028, 0x0002, 'US', [1]),
    el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    el(0x0028, 0x0010, 'US', [height]),
    el(0x0028, 0x0011, 'US', [width]),
    el(0x0028, 0x0100, 'US', [8]),
    el(0x0028, 0x0101, 'US', [8]),
    el(0x0028, 0x0102, 'US', [7]),
    el(0x0028, 0x0103, 'US', [0]),
    el(0x7fe0, 0x0010, 'OB', grey),
  ]);
}

const opened = new Map<string, Promise<OpenedImage>>();

/** Decodes a file once per test run (the large WG04 files are compared several times). */
export function openFile(file: string, frame?: number): Promise<OpenedImage> {
  const key = `${file}#${frame ?? 0}`;
  let image = opened.get(key);
  if (!image) {
    image = decodeImageFile(path.basename(file), readFileSync(file), frame === undefined ? {} : { frame });
    opened.set(key, image);
    image.catch(() => opened.delete(key));
  }
  return image;
}

/** How many pixels differ (expect(...).toEqual on millions of elements is far too slow). */
export function countDifferences(a: Uint16Array, b: Uint16Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

export const openFixture = (name: string, frame?: number) => openFile(path.join(FIXTURES, name), frame);

/** The modality value of pixel i, from the documented data -> modality mapping. */
export const modalityAt = (p: ImagePixels, i: number) => p.data[i]! * p.modalitySlope + p.modalityIntercept;

/** The error a decode fails with; fails the test when it decodes. */
export async function decodeError(promise: Promise<unknown>): Promise<ImageDecodeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ImageDecodeError) return error;
    throw error;
  }
  throw new Error('expected the file to be refused, but it decoded');
}

export function maxModalityDifference(a: ImagePixels, b: ImagePixels): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(modalityAt(a, i) - modalityAt(b, i));
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / a.data.length };
}

/** A JPEG with an Exif APP1 segment (a TIFF structure, one IFD entry: Orientation = tag) after its SOI. */
export function withExifOrientation(jpeg: Uint8Array, tag: number, littleEndian = false): Uint8Array {
  const tiff = littleEndian
    ? [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, tag, 0, 0, 0, 0, 0, 0, 0]
    : [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, tag, 0, 0, 0, 0, 0, 0];
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]; // "Exif\0\0"
  const length = body.length + 2;
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 0xff, ...body, ...jpeg.subarray(2)]);
}
