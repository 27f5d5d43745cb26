/**
 * Resource limits for every image decoder (DICOM, PNG, JPEG, JPEG 2000, JPEG-LS, RLE, deflate, TIFF): the
 * size an image declares is checked from its header before anything is allocated, so a 1 KB file that
 * claims 30000 x 30000 pixels is refused in microseconds instead of taking gigabytes (docs/security.md).
 * The figures are far above any cephalogram (about 2000 x 2400 at 0.1 mm; the largest detectors give
 * about 9000 pixels a side) and far below what hurts a 2020s workstation.
 */
import { MAX_FILE_BYTES } from '../../core/api/image';
import { ImageDecodeError } from './errors';

/** Width x height. */
export const MAX_PIXELS = 100_000_000;
/** Either side. */
export const MAX_SIDE = 20_000;
/** Decoded samples of one frame in bytes (width x height x samples x bytes per sample). */
export const MAX_DECODED_BYTES = 512 * 1024 * 1024;
/**
 * A deflated DICOM data set once inflated: 100 megapixels of 16-bit grey (200 MB) and its header fit.
 * (Inflating a bomb up to this limit takes about 2 s here with 1 MB output chunks; Node's default 16 KB chunks took 7
 * s.)
 */
export const MAX_INFLATED_BYTES = 256 * 1024 * 1024;
/** An image file read from disk or received from a renderer. */
export const MAX_IMAGE_FILE_BYTES = MAX_FILE_BYTES;
/** Decoded images kept in memory for instant re-opening, in bytes of pixel data. */
export const PIXEL_CACHE_BYTES = 600 * 1024 * 1024;
/** The decode worker is replaced after a decode that leaves its heap (JavaScript + WebAssembly) above this. */
export const DECODER_HEAP_BYTES = 1536 * 1024 * 1024;

const MB = 1024 * 1024;
const fmtMb = (bytes: number): string => `${Math.round(bytes / MB)} MB`;

/**
 * Throws a clear refusal when an image of this declared size would exceed the limits. `what` names where
 * the size came from ("the JPEG header"). `samples` and `bytesPerSample` give the decoded frame's size.
 */
export function checkImageSize(
  fileName: string,
  width: number,
  height: number,
  what: string,
  samples = 1,
  bytesPerSample = 2,
): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width <= 0 || height <= 0) {
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `${what} declares an impossible image size (${width} x ${height} pixels)`,
    );
  }
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new ImageDecodeError(
      'unsupported',
      fileName,
      `image is ${width} x ${height} pixels (${what}); the limit is ${MAX_PIXELS / 1e6} megapixels and ${MAX_SIDE} pixels a side, far above any cephalogram, so the file was not decoded`,
    );
  }
  const bytes = width * height * samples * bytesPerSample;
  if (bytes > MAX_DECODED_BYTES) {
    throw new ImageDecodeError(
      'unsupported',
      fileName,
      `image is ${width} x ${height} pixels with ${samples} sample(s) of ${bytesPerSample * 8} bits (${what}): ${fmtMb(bytes)} decoded; the limit is ${fmtMb(MAX_DECODED_BYTES)}, so the file was not decoded`,
    );
  }
}

/** Size of a JPEG 2000 codestream from its SIZ marker (FF51), or null when there is none in reach. */
export function readJ2kSize(bytes: Uint8Array): { width: number; height: number; components: number } | null {
  // A raw codestream starts with SOC (FF4F) then SIZ; a JP2 file wraps it in boxes: look for FF4F FF51.
  const limit = Math.min(bytes.length - 44, 64 * 1024);
  for (let i = 0; i < limit; i++) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0x4f && bytes[i + 2] === 0xff && bytes[i + 3] === 0x51) {
      const v = new DataView(bytes.buffer, bytes.byteOffset + i + 4);
      // Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4) ... Csiz at 36
      const xsiz = v.getUint32(4);
      const ysiz = v.getUint32(8);
      const xo = v.getUint32(12);
      const yo = v.getUint32(16);
      return { width: xsiz - xo, height: ysiz - yo, components: v.getUint16(36) };
    }
  }
  return null;
}
