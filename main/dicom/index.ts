/**
 * Opens DICOM, PNG, JPEG and TIFF files as display-ready grey pixels with their spacing and metadata.
 * See docs/dicom.md.
 */
import type { OpenedImage } from '../../core/api/image';
import { decodeDicomFile, type ImageSummary } from './dicom-file';
import { ImageDecodeError } from './errors';
import type { UnreadPixelData } from './pixels';
import { isJpeg, isPng, isTiff, unsupportedImageFormat } from './formats';

export { ImageDecodeError } from './errors';
export type { ImageSummary } from './dicom-file';

export interface DecodeOptions {
  /** 0-based frame of a multi-frame file; the first frame by default. */
  readonly frame?: number;
  /**
   * Pixels as stored, the TIFF/Exif Orientation tag ignored: what images imported before the tag was applied
   * (2026-12-04) were read as, so that their landmarks stay on them.
   */
  readonly ignoreOrientationTag?: boolean;
  /**
   * The first page of a multi-page TIFF even when it is a reduced-resolution copy: what images imported before
   * pages were walked (2026-12-04) were read as, so that their landmarks stay on them.
   */
  readonly firstTiffPage?: boolean;
}

/** Decodes by content (the extension is not trusted); every failure is an ImageDecodeError naming the file. */
export async function decodeImageFile(
  fileName: string,
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<OpenedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('corrupt-file', fileName, 'the file is empty');
  try {
    // A DICOM Part 10 file is DICOM whatever its 128-byte preamble holds: dual-personality files put a TIFF
    // header there (the WG04 samples do), which must not turn them into TIFFs without their DICOM header.
    if (hasDicomPrefix(bytes)) return await decodeDicomFile(fileName, bytes, options.frame ?? 0);
    // The PNG, JPEG and TIFF decoders load with the first such file (a DICOM file never loads them).
    if (isPng(bytes)) return (await import('./raster')).decodePngFile(fileName, bytes);
    const asStored = options.ignoreOrientationTag === true;
    if (isJpeg(bytes)) return await (await import('./raster')).decodeJpegFile(fileName, bytes, asStored);
    if (isTiff(bytes))
      return (await import('./tiff')).decodeTiffFile(fileName, bytes, asStored, options.firstTiffPage === true);
    refuseUnsupportedFormat(fileName, bytes);
    return await decodeDicomFile(fileName, bytes, options.frame ?? 0);
  } catch (error) {
    throw asDecodeError(fileName, error);
  }
}

/** A BMP, GIF, WebP, bare JPEG 2000, HEIF or PDF file is named as what it is, with what to do instead. */
function refuseUnsupportedFormat(fileName: string, bytes: Uint8Array): void {
  const format = unsupportedImageFormat(bytes);
  if (format)
    throw new ImageDecodeError(
      'unsupported',
      fileName,
      `${format}, which the workstation does not read: it reads DICOM, PNG, JPEG and TIFF. ` +
        'Export the radiograph from its software as DICOM, or save it as PNG or TIFF (lossless), and import that',
    );
}

/** Anything escaping the parsers is still a problem with this file, reported as such. */
function asDecodeError(fileName: string, error: unknown): ImageDecodeError {
  if (error instanceof ImageDecodeError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ImageDecodeError('corrupt-file', fileName, `the file cannot be read (${detail})`);
}

/** "DICM" after the 128-byte preamble: the mark of a DICOM Part 10 file. */
function hasDicomPrefix(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d
  );
}

/**
 * What decodeImageFile reports of a file, without the display pixels (`cvm info`): the same info, windows and
 * mapping. An uncompressed or decoded DICOM frame is then never mapped pixel by pixel (pipeline.ts).
 * `unread`: part of a DICOM file's Pixel Data is not in `bytes` but read on demand (native-summary.ts).
 */
export async function summarizeImageFile(
  fileName: string,
  bytes: Uint8Array,
  options: DecodeOptions = {},
  unread?: UnreadPixelData,
): Promise<ImageSummary> {
  if (bytes.length > 0 && hasDicomPrefix(bytes)) {
    try {
      return await decodeDicomFile(fileName, bytes, options.frame ?? 0, false, unread);
    } catch (error) {
      throw asDecodeError(fileName, error);
    }
  }
  const { info, pixels } = await decodeImageFile(fileName, bytes, options);
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the pixels are left out on purpose
  const { data, ...rest } = pixels;
  return { info, pixels: rest };
}

/** Loads the WebAssembly codecs ahead of the first compressed file (the decode bench times decoding alone). */
export async function initNativeCodecs(): Promise<void> {
  await (await import('./native-codecs')).initNativeCodecs();
}
