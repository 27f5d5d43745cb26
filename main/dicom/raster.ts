/** PNG and JPEG images (no DICOM header): grey values for display, always uncalibrated. */
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import type { OpenedImage, PatientStudyMeta, WindowPreset } from '../../core/api/image';
import { inflateSync } from 'node:zlib';
import { ImageDecodeError } from './errors';
import { describeTagTurn, orientationOfTag, orientPixels, uprightSize } from '../../core/inference/orientation';
import { jpegDamageWarning, readJpegExifOrientation, readJpegFrameHeader } from './formats';
import { checkImageSize, MAX_DECODED_BYTES } from './limits';
import { decodeJpegGrey } from './jpeg-grey';
import { nativeDecode, CodecError } from './native-codecs';
import { automaticWindow, automaticWindowOfCounts, centralPart, FULL_RANGE_WINDOW } from './windows';

/** The 16-bit display value of each 8-bit grey value. */
const TIMES_257 = Uint16Array.from({ length: 256 }, (_, v) => v * 257);

export { isJpeg, isPng, jpegDamageWarning, jpegHasEnd, readJpegFrameHeader } from './formats';

export const EMPTY_META: PatientStudyMeta = {
  patientName: null,
  patientId: null,
  sex: null,
  birthDate: null,
  studyDate: null,
  studyDescription: null,
  studyInstanceUid: null,
  modality: null,
  manufacturer: null,
  manufacturerModel: null,
  institution: null,
  ageYears: null,
};

/** Rec. 601 luma, the weights JPEG's YCbCr uses: a grey stored as RGB comes back unchanged. */
function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** Grey values 0..maxValue mapped onto 0..65535, shown as-is by the default (full-range) window. */
function rasterImage(
  fileName: string,
  format: 'png' | 'jpeg',
  width: number,
  height: number,
  data: Uint16Array,
  bitsStored: number,
  photometric: string,
  warnings: readonly string[] = [],
  automatic: WindowPreset = automaticWindow(data, width, height),
  turnedByTag: string | null = null,
): OpenedImage {
  const maxValue = 2 ** bitsStored - 1;
  return {
    info: {
      fileName,
      format,
      width,
      height,
      frames: 1,
      spacing: null,
      bitsStored,
      photometric,
      invertedFromMonochrome1: false,
      transferSyntax: null,
      meta: EMPTY_META,
      ...(warnings.length > 0 ? { warnings: warnings.map((w) => `${fileName}: ${w}`) } : {}),
      ...(turnedByTag ? { turnedByTag } : {}),
    },
    pixels: {
      width,
      height,
      data,
      modalitySlope: maxValue / 65535,
      modalityIntercept: 0,
      windows: [{ ...FULL_RANGE_WINDOW, name: 'As stored' }, automatic],
    },
  };
}

/**
 * The decoded pixels turned as the JPEG's Exif Orientation says, the way image viewers show the file (a photo or
 * scan of a film saved sideways with the tag set): the image, its landmarks and its exports are then in the
 * orientation everyone else sees.
 */
function asShown(
  bytes: Uint8Array,
  width: number,
  height: number,
  data: Uint16Array,
  ignoreOrientationTag: boolean,
): { width: number; height: number; data: Uint16Array; turnedByTag: string | null } {
  const tag = readJpegExifOrientation(bytes);
  const turn = ignoreOrientationTag ? null : orientationOfTag(tag);
  if (!turn) return { width, height, data, turnedByTag: null };
  const size = uprightSize(width, height, turn);
  const turnedByTag = `${describeTagTurn(turn)} as its Exif Orientation (${tag}) says`;
  return { width: size.w, height: size.h, data: orientPixels(data, width, height, turn), turnedByTag };
}

export async function decodeJpegFile(
  fileName: string,
  bytes: Uint8Array,
  ignoreOrientationTag = false,
): Promise<OpenedImage> {
  const header = readJpegFrameHeader(bytes);
  if (!header)
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      'the JPEG has no readable frame header (truncated or not a JPEG)',
    );
  const { width, height, components, precision } = header;
  if (width === 0 || height === 0)
    throw new ImageDecodeError('corrupt-file', fileName, `the JPEG declares an empty image (${width}x${height})`);
  if (components !== 1 && components !== 3)
    throw new ImageDecodeError(
      'unsupported',
      fileName,
      `JPEG with ${components} colour components is not supported (grey or RGB only)`,
    );
  if (header.arithmetic)
    throw new ImageDecodeError(
      'unsupported',
      fileName,
      'arithmetic-coded JPEG is not supported (Huffman-coded only): save the image again as an ordinary JPEG or as PNG',
    );
  const bitsAllocated = precision > 8 ? 16 : 8;
  checkImageSize(fileName, width, height, 'the JPEG header', components, bitsAllocated / 8);
  const photometric = components === 1 ? 'MONOCHROME2' : 'RGB';
  if (header.sequentialHuffman && precision === 8 && (components === 1 || header.firstComponentIsLuma)) {
    // Only the grey is needed: libjpeg-turbo decodes the luma alone (the values of the loop below, v * 257).
    // The module also counts the grey values of the automatic window's central part: the same histogram as
    // automaticWindow's pass over the 16-bit values v * 257, without that pass (a slow loop until optimised).
    const grey = await decodeJpegGrey(bytes, 16, centralPart);
    if (grey?.data instanceof Uint16Array && grey.width === width && grey.height === height && grey.centralCounts) {
      // The central part is symmetric, so its counts hold for the turned image too.
      const shown = asShown(bytes, width, height, grey.data, ignoreOrientationTag);
      return rasterImage(
        fileName,
        'jpeg',
        shown.width,
        shown.height,
        shown.data,
        precision,
        photometric,
        jpegDamageWarning(bytes, []),
        automaticWindowOfCounts(grey.centralCounts, 0, 255, TIMES_257),
        shown.turnedByTag,
      );
    }
  }
  let decoded;
  try {
    decoded = await nativeDecode(
      'DecodeJpeg',
      bytes,
      {
        width,
        height,
        bitsAllocated,
        bitsStored: precision,
        samplesPerPixel: components,
        pixelRepresentation: 0,
        planarConfiguration: 0,
        photometric: components === 1 ? 'MONOCHROME2' : header.firstComponentIsLuma ? 'YBR_FULL' : 'RGB',
      },
      false,
    );
  } catch (error) {
    if (error instanceof CodecError)
      throw new ImageDecodeError('corrupt-file', fileName, `the JPEG data cannot be decoded (${error.message.trim()})`);
    throw error;
  }
  const pixelCount = width * height;
  const samples =
    bitsAllocated === 16
      ? new Uint16Array(decoded.bytes.buffer, decoded.bytes.byteOffset, decoded.bytes.byteLength >> 1)
      : decoded.bytes;
  if (samples.length < pixelCount * components)
    throw new ImageDecodeError('corrupt-file', fileName, 'the JPEG data is truncated');
  const scale = 65535 / (2 ** precision - 1);
  const data = new Uint16Array(pixelCount);
  /* eslint-disable @typescript-eslint/no-non-null-assertion --
     samples checked above: at least pixelCount x components values */
  if (components === 1 || header.firstComponentIsLuma) {
    // YCbCr: the Y component already is the luminance.
    for (let i = 0, s = 0; i < pixelCount; i++, s += components) data[i] = Math.round(samples[s]! * scale);
  } else {
    for (let i = 0, s = 0; i < pixelCount; i++, s += 3)
      data[i] = Math.round(luma(samples[s]!, samples[s + 1]!, samples[s + 2]!) * scale);
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  const shown = asShown(bytes, width, height, data, ignoreOrientationTag);
  return rasterImage(
    fileName,
    'jpeg',
    shown.width,
    shown.height,
    shown.data,
    precision,
    photometric,
    jpegDamageWarning(bytes, decoded.warnings),
    automaticWindow(shown.data, shown.width, shown.height),
    shown.turnedByTag,
  );
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Checks a PNG before decoding it: the size in IHDR against the limits, then the image data inflated with
 * an output limit, so neither a header that claims 60000 x 60000 pixels nor IDAT data that inflates far
 * beyond what the header declares (a zip bomb) allocates more than the limits allow.
 */
export function checkPng(fileName: string, bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 33 || view.getUint32(12) !== 0x49484452 /* IHDR */) {
    throw new ImageDecodeError('corrupt-file', fileName, 'the PNG has no IHDR header (truncated or damaged)');
  }
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = view.getUint8(24);
  const channels = PNG_CHANNELS[view.getUint8(25)];
  const interlaced = bytes[28] === 1;
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `the PNG header is invalid (colour type ${bytes[25]}, bit depth ${depth})`,
    );
  }
  checkImageSize(fileName, width, height, 'the PNG header', channels, depth > 8 ? 2 : 1);
  // Filtered scanlines: one filter byte per row plus the packed samples; Adam7 adds at most 7 passes' worth of rows.
  const rowBytes = Math.ceil((width * channels * depth) / 8);
  const expected = (rowBytes + 1) * height + (interlaced ? 7 * (height + 8) * 2 + rowBytes * 2 : 0);
  const idat: Uint8Array[] = [];
  for (let pos = 8; pos + 8 <= bytes.length;) {
    const length = view.getUint32(pos);
    const type = view.getUint32(pos + 4);
    if (type === 0x49444154 /* IDAT */) idat.push(bytes.subarray(pos + 8, Math.min(bytes.length, pos + 8 + length)));
    if (type === 0x49454e44 /* IEND */) break;
    pos += 12 + length;
  }
  if (idat.length === 0) throw new ImageDecodeError('corrupt-file', fileName, 'the PNG has no image data (IDAT)');
  try {
    inflateSync(Buffer.concat(idat), {
      maxOutputLength: Math.min(MAX_DECODED_BYTES, expected + 1024),
      chunkSize: 1 << 20,
      finishFlush: 2 /* Z_SYNC_FLUSH: a truncated stream is reported by the decoder */,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ImageDecodeError(
        'unsupported',
        fileName,
        `the PNG image data inflates to more than the ${width} x ${height} pixels its header declares (a decompression bomb?), so it was not decoded`,
      );
    }
    // Other inflate problems (damaged data) are left to the decoder, which names them.
  }
}

export function decodePngFile(fileName: string, bytes: Uint8Array): OpenedImage {
  checkPng(fileName, bytes);
  let png;
  try {
    png = decodePng(bytes);
  } catch (error) {
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `the PNG cannot be decoded (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const { width, height, channels, depth } = png;
  if (width === 0 || height === 0)
    throw new ImageDecodeError('corrupt-file', fileName, `the PNG declares an empty image (${width}x${height})`);
  const pixelCount = width * height;
  const data = new Uint16Array(pixelCount);
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    const stride = png.palette[0]?.length ?? 3;
    /* eslint-disable @typescript-eslint/no-non-null-assertion --
       convertIndexedToRgb returns pixelCount x stride values */
    for (let i = 0, s = 0; i < pixelCount; i++, s += stride)
      data[i] = Math.round(luma(rgb[s]!, rgb[s + 1]!, rgb[s + 2]!) * 257);
    /* eslint-enable @typescript-eslint/no-non-null-assertion */
    return rasterImage(fileName, 'png', width, height, data, 8, 'PALETTE COLOR');
  }
  if (depth < 8) {
    // Grey packed several pixels to a byte, each row starting on a byte.
    const rowBytes = Math.ceil((width * depth) / 8);
    const mask = 2 ** depth - 1;
    const scale = 65535 / mask;
    if (png.data.length < rowBytes * height)
      throw new ImageDecodeError('corrupt-file', fileName, 'the PNG data is truncated');
    /* eslint-disable @typescript-eslint/no-non-null-assertion --
       png.data holds rowBytes x height bytes, checked above */
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = x * depth;
        const byte = png.data[y * rowBytes + (bit >> 3)]!;
        data[y * width + x] = Math.round(((byte >> (8 - depth - (bit & 7))) & mask) * scale);
      }
    }
    /* eslint-enable @typescript-eslint/no-non-null-assertion */
    return rasterImage(fileName, 'png', width, height, data, depth, 'MONOCHROME2');
  }
  const maxValue = 2 ** depth - 1;
  const scale = 65535 / maxValue;
  const colour = channels >= 3;
  if (png.data.length < pixelCount * channels)
    throw new ImageDecodeError('corrupt-file', fileName, 'the PNG data is truncated');
  /* eslint-disable @typescript-eslint/no-non-null-assertion --
     samples checked above: png.data holds pixelCount x channels values */
  // Alpha (channel 2 of grey+alpha, 4 of RGBA) is ignored: radiographs are opaque.
  for (let i = 0, s = 0; i < pixelCount; i++, s += channels) {
    const v = colour ? luma(png.data[s]!, png.data[s + 1]!, png.data[s + 2]!) : png.data[s]!;
    data[i] = Math.round(v * scale);
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return rasterImage(fileName, 'png', width, height, data, depth, colour ? 'RGB' : 'MONOCHROME2');
}
