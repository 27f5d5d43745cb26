/**
 * The grey JPEG decoder (libjpeg-turbo's luma-only decode, main/dicom/jpeg-grey.ts) against the full decoder
 * (dcmjs-imaging's IJG libjpeg): the same values for grey and for the luma of YCbCr at every chroma layout,
 * the pipeline really taking it, and every stream it does not take (lossless, 12-bit, damaged) left to the
 * full decoder with the outcome of before.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../main/dicom/index';
import { decodeJpegGrey, jpegGreyHeapBytes } from '../../main/dicom/jpeg-grey';
import { nativeDecode, nativeEncode } from '../../main/dicom/native-codecs';
import { readJpegFrameHeader } from '../../main/dicom/raster';
import { automaticWindow, centralPart } from '../../main/dicom/windows';
import { HAS_SHARED_DATA, sharedPath, SKIP_NO_SHARED } from '../shared-data';
import { countDifferences, FIXTURES } from './helpers';

/** The first component of the full decode (grey, or Y of YCbCr without colour conversion), as the decoder gave it. */
async function fullDecodeLuma(jpeg: Uint8Array): Promise<Uint8Array> {
  const header = readJpegFrameHeader(jpeg);
  if (!header) throw new Error('not a JPEG');
  const decoded = await nativeDecode(
    'DecodeJpeg',
    jpeg,
    {
      width: header.width,
      height: header.height,
      bitsAllocated: 8,
      bitsStored: 8,
      samplesPerPixel: header.components,
      pixelRepresentation: 0,
      planarConfiguration: 0,
      photometric: header.components === 1 ? 'MONOCHROME2' : 'YBR_FULL',
    },
    false,
  );
  const count = header.width * header.height;
  const luma = new Uint8Array(count);
  for (let i = 0; i < count; i++) luma[i] = decoded.bytes[i * header.components]!;
  return luma;
}

/** A smooth colour picture with noise, of a size that is no multiple of the MCU (edge blocks are padded). */
function colourPicture(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  let seed = 7;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const i = (y * width + x) * 3;
      rgb[i] = 128 + 100 * Math.sin(x / 17);
      rgb[i + 1] = 128 + 90 * Math.cos(y / 11) + (seed & 15);
      rgb[i + 2] = (x * y) & 255;
    }
  return rgb;
}

async function encodeColour(chroma: '444' | '422'): Promise<Uint8Array> {
  const width = 203;
  const height = 157;
  return nativeEncode(
    'EncodeJpeg',
    colourPicture(width, height),
    {
      width,
      height,
      bitsAllocated: 8,
      bitsStored: 8,
      samplesPerPixel: 3,
      pixelRepresentation: 0,
      planarConfiguration: 0,
      photometric: 'YBR_FULL_422',
    },
    { lossy: true, quality: 85, chroma },
  );
}

const wide = (luma: Uint8Array) => Uint16Array.from(luma, (v) => v * 257);

describe('grey JPEG decoding (libjpeg-turbo, luma only)', () => {
  const cases: Array<[string, () => Promise<Uint8Array>]> = [
    ['grey (1 component)', async () => readFileSync(path.join(FIXTURES, 'grey.jpg'))],
    ['YCbCr 4:4:4', async () => readFileSync(path.join(FIXTURES, 'grey-as-rgb.jpg'))],
    ['YCbCr 4:4:4, colour, 203x157', () => encodeColour('444')],
    ['YCbCr 4:2:2, colour, 203x157', () => encodeColour('422')],
  ];
  it.each(cases)('%s: the values of the full decoder, as 8 and as 16 bits', async (_name, make) => {
    const jpeg = await make();
    const expected = await fullDecodeLuma(jpeg);
    const narrow = await decodeJpegGrey(jpeg, 8);
    const wideGrey = await decodeJpegGrey(jpeg, 16);
    expect(narrow).not.toBeNull();
    expect(wideGrey).not.toBeNull();
    expect(narrow?.data).toBeInstanceOf(Uint8Array);
    expect(countDifferences(Uint16Array.from(narrow?.data ?? []), Uint16Array.from(expected))).toBe(0);
    expect(countDifferences(wideGrey?.data as Uint16Array, wide(expected))).toBe(0);
    // And the file decoder hands out exactly these values, with the automatic window of their central part
    // (counted in the module) equal to the one read from the pixels.
    const opened = await decodeImageFile('picture.jpg', jpeg);
    expect(countDifferences(opened.pixels.data, wide(expected))).toBe(0);
    expect(opened.info.warnings).toBeUndefined();
    expect(opened.pixels.windows[1]).toEqual(automaticWindow(wide(expected), opened.info.width, opened.info.height));
  });

  it('counts the grey values of the part it is given, and only those', async () => {
    const jpeg = await encodeColour('422');
    const luma = await fullDecodeLuma(jpeg);
    const rect = { x0: 17, x1: 151, y0: 9, y1: 120 };
    const grey = await decodeJpegGrey(jpeg, 16, () => rect);
    const expected = new Uint32Array(256);
    for (let y = rect.y0; y < rect.y1; y++) for (let x = rect.x0; x < rect.x1; x++) expected[luma[y * 203 + x]!]!++;
    expect(grey?.centralCounts).toEqual(expected);
    const central = await decodeJpegGrey(jpeg, 8, centralPart);
    const { x0, x1, y0, y1 } = centralPart(203, 157);
    expect(central?.centralCounts?.reduce((a, b) => a + b, 0)).toBe((x1 - x0) * (y1 - y0));
    expect((await decodeJpegGrey(jpeg, 8))?.centralCounts).toBeNull();
  });

  it.skipIf(!HAS_SHARED_DATA)(`ISBI cephalograms (1935x2400, YCbCr 4:2:0) ${SKIP_NO_SHARED}`, async () => {
    for (const name of ['001.jpg', '002.jpg']) {
      const jpeg = readFileSync(sharedPath('isbi2015', 'images', name));
      const grey = await decodeJpegGrey(jpeg, 8);
      expect(grey?.width).toBe(1935);
      const luma = await fullDecodeLuma(jpeg);
      expect(Buffer.compare(grey?.data as Uint8Array, luma)).toBe(0);
      const opened = await decodeImageFile(name, jpeg);
      expect(opened.pixels.windows[1]).toEqual(automaticWindow(wide(luma), 1935, 2400));
    }
    // Its WebAssembly memory is counted against the decoder worker's heap bound.
    expect(jpegGreyHeapBytes()).toBeGreaterThan(1935 * 2400 * 2);
  });

  it('a grey DICOM JPEG baseline frame: the samples of the full decoder', async () => {
    const bytes = readFileSync(path.join(FIXTURES, 'syntax-jpeg-baseline.dcm'));
    const dataSet = dicomParser.parseDicom(bytes);
    const element = dataSet.elements.x7fe00010!;
    const frame = dicomParser.readEncapsulatedPixelDataFromFragments(
      dataSet,
      element,
      0,
      element.fragments?.length ?? 0,
    );
    const grey = await decodeJpegGrey(frame, 8);
    expect(grey).not.toBeNull();
    expect(countDifferences(Uint16Array.from(grey?.data ?? []), Uint16Array.from(await fullDecodeLuma(frame)))).toBe(0);
  });

  it('lossless and damaged streams are left to the full decoder, which still reads them as before', async () => {
    // JPEG lossless (SOF3): libjpeg-turbo 2.1 refuses it; the module is discarded and loaded again.
    const lossless = readFileSync(path.join(FIXTURES, 'syntax-jpeg-lossless.dcm'));
    const dataSet = dicomParser.parseDicom(lossless);
    const element = dataSet.elements.x7fe00010!;
    const frame = dicomParser.readEncapsulatedPixelDataFromFragments(
      dataSet,
      element,
      0,
      element.fragments?.length ?? 0,
    );
    expect(readJpegFrameHeader(frame)?.lossless).toBe(true);
    expect(await decodeJpegGrey(frame, 16)).toBeNull();
    const jpeg = readFileSync(path.join(FIXTURES, 'grey.jpg'));
    expect(await decodeJpegGrey(jpeg, 16)).not.toBeNull();
    // Cut short: libjpeg-turbo warns (premature end), so the full decoder decodes it and words the damage.
    const cut = jpeg.subarray(0, Math.floor(jpeg.length * 0.7));
    expect(await decodeJpegGrey(cut, 16)).toBeNull();
    const opened = await decodeImageFile('cut.jpg', cut);
    expect(opened.info.warnings?.join(' ')).toMatch(/cut\.jpg: the JPEG data is damaged/);
    // Not a JPEG at all: an error inside the module, null here.
    expect(await decodeJpegGrey(Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 3, 1]), 16)).toBeNull();
  });
});
