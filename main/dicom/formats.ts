/**
 * What an image file is, from its first bytes, and the JPEG stream's headers: the small code that the DICOM path
 * needs, kept apart from the PNG, JPEG and TIFF decoders (raster.ts, tiff.ts), which are loaded only when a file
 * of theirs is opened, so `cvm info` on a DICOM file loads neither them nor fast-png, fflate and node:zlib.
 */

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** The 8-byte PNG signature (as fast-png's hasPngSignature). */
const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length > 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** A classic TIFF (version 42) or a BigTIFF (43), either byte order. */
export function isTiff(bytes: Uint8Array): boolean {
  const version = (v: number): boolean =>
    (bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === v && bytes[3] === 0) ||
    (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === v);
  return bytes.length >= 8 && (version(42) || version(43));
}

export interface JpegFrameHeader {
  readonly precision: number;
  readonly width: number;
  readonly height: number;
  readonly components: number;
  /** The first component is luma (YCbCr), not red. */
  readonly firstComponentIsLuma: boolean;
  readonly lossless: boolean;
  /** SOF0 or SOF1: sequential DCT with Huffman coding (baseline or extended), what ./jpeg-grey takes. */
  readonly sequentialHuffman: boolean;
  /** SOF9-11 or SOF13-15: arithmetic coding, which the codec module's IJG decoder does not read. */
  readonly arithmetic: boolean;
}

/**
 * The Exif Orientation tag (274) of a JPEG (APP1 "Exif"), 1-8: how the stored image must be turned to be shown as
 * the camera or scanner meant it; 1 (as stored) when there is none or it cannot be read.
 */
export function readJpegExifOrientation(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = view.getUint8(pos + 1);
    if (marker === 0xff || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === 0xda || (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc))
      return 1; // image data or frame header: APP segments come before them
    const length = view.getUint16(pos + 2);
    const body = pos + 4;
    const end = Math.min(bytes.length, pos + 2 + length);
    const exif = [0x45, 0x78, 0x69, 0x66, 0, 0].every((b, i) => bytes[body + i] === b); // "Exif\0\0"
    if (marker === 0xe1 && exif) return tiffOrientation(view, body + 6, end);
    pos = pos + 2 + length;
  }
  return 1;
}

/** Tag 274 of the first IFD of the TIFF structure at [start, end) of view (Exif's layout), or 1. */
function tiffOrientation(view: DataView, start: number, end: number): number {
  if (start + 8 > end) return 1;
  const order = view.getUint16(start);
  if (order !== 0x4949 && order !== 0x4d4d) return 1; // "II" little endian, "MM" big endian
  const little = order === 0x4949;
  const ifd = start + view.getUint32(start + 4, little);
  if (ifd + 2 > end) return 1;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return 1;
    if (view.getUint16(entry, little) !== 274) continue;
    const value = view.getUint16(entry + 8, little); // SHORT, one value, left-justified in the value field
    return view.getUint16(entry + 2, little) === 3 && value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** Reads the SOF marker (and the Adobe APP14 colour transform) from a JPEG stream. */
export function readJpegFrameHeader(bytes: Uint8Array): JpegFrameHeader | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let adobeTransform: number | null = null;
  let jfif = false;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return null;
    const marker = view.getUint8(pos + 1);
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2;
      continue;
    }
    const length = (view.getUint8(pos + 2) << 8) | view.getUint8(pos + 3);
    const body = pos + 4;
    if (marker === 0xe0 && bytes[body] === 0x4a && bytes[body + 1] === 0x46) jfif = true;
    if (marker === 0xee && length >= 12 && bytes[body] === 0x41 && bytes[body + 1] === 0x64)
      adobeTransform = bytes[body + 11] ?? null;
    // SOF0..SOF15 (not DHT, JPG, DAC), and SOF55 of JPEG-LS, whose frame header has the same layout.
    const isSof =
      (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
    if (isSof) {
      if (body + 6 > bytes.length) return null;
      const components = view.getUint8(body + 5);
      const ids = [bytes[body + 6], bytes[body + 9], bytes[body + 12]];
      const namedRgb = ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42; // 'R','G','B'
      const firstComponentIsLuma = components === 3 && !namedRgb && (jfif || adobeTransform !== 0);
      return {
        precision: view.getUint8(body),
        height: (view.getUint8(body + 1) << 8) | view.getUint8(body + 2),
        width: (view.getUint8(body + 3) << 8) | view.getUint8(body + 4),
        components,
        firstComponentIsLuma,
        lossless: marker === 0xc3 || marker === 0xc7 || marker === 0xcb || marker === 0xcf,
        sequentialHuffman: marker === 0xc0 || marker === 0xc1,
        arithmetic: marker >= 0xc9 && marker <= 0xcf && marker !== 0xcc,
      };
    }
    pos = body + length - 2;
  }
  return null;
}

/** Whether a JPEG stream ends with its EOI marker (FFD9), allowing trailing padding. */
export function jpegHasEnd(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (
    end > 2 &&
    (bytes[end - 1] === 0x00 || bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d || bytes[end - 1] === 0x20)
  )
    end--;
  // Some writers pad after EOI with a few bytes; look at the last 64.
  for (let i = end - 2; i >= Math.max(2, end - 64); i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  return false;
}

/** The damage a JPEG decode worked around, as one warning (or none). */
export function jpegDamageWarning(bytes: Uint8Array, codecWarnings: readonly string[]): string[] {
  const problems = [
    ...(jpegHasEnd(bytes) ? [] : ['the data ends before the end-of-image marker (truncated file?)']),
    ...codecWarnings,
  ];
  if (problems.length === 0) return [];
  const shown = problems.slice(0, 4).join('; ') + (problems.length > 4 ? `; and ${problems.length - 4} more` : '');
  return [`the JPEG data is damaged and parts of the image may be wrong (grey or smeared): ${shown}`];
}

const ascii = (bytes: Uint8Array, at: number, text: string): boolean =>
  bytes.length >= at + text.length && [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

/**
 * The name of an image format the workstation recognises but does not read (for a specific error instead of
 * "not a DICOM file"), or null.
 */
export function unsupportedImageFormat(bytes: Uint8Array): string | null {
  if (ascii(bytes, 0, 'BM') && bytes.length >= 26) return 'a BMP image';
  if (ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a')) return 'a GIF image';
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) return 'a WebP image';
  if (ascii(bytes, 4, 'jP  ') || (bytes[0] === 0xff && bytes[1] === 0x4f && bytes[2] === 0xff && bytes[3] === 0x51))
    return 'a JPEG 2000 image (outside DICOM)';
  if (ascii(bytes, 4, 'ftyp') && ['heic', 'heix', 'mif1', 'avif'].some((b) => ascii(bytes, 8, b)))
    return 'a HEIF/AVIF image';
  if (ascii(bytes, 0, '%PDF')) return 'a PDF document';
  return null;
}
