/**
 * `cvm info` of an image file on disk. A large uncompressed (native, little-endian) DICOM file is read but for
 * its Pixel Data, whose frame then streams from the file a chunk at a time to give the frame's range and the
 * counts the automatic window needs (pixels.ts, frameStatistics): the 9.6 MB of a 2000x2400 16-bit frame are
 * never held at once. On this kind of machine touching fresh memory costs more than the reading itself, and a
 * loop over 4.8 million values runs unoptimised for a while in a new process; a chunk reused 10 times avoids
 * both. The summary is the one summarizeImageFile gives for the whole file (test/dicom/summary.test.ts); any
 * other file, or a frame whose mapping needs its values, is read whole and summarised as before.
 */
import { closeSync } from 'node:fs';
import dicomParser from 'dicom-parser';
import { ImageDecodeError } from './errors';
import { summarizeImageFile, type ImageSummary } from './index';
import { openImageFileSafely, readFileRange } from './read-file';

/** Files smaller than this are read whole: streaming them gains nothing. */
export const STREAMED_SUMMARY_MIN_BYTES = 1 << 20;
/** The first bytes read, in which the Pixel Data element's header must lie for its value to be streamed. */
const HEAD_BYTES = 256 * 1024;
/** Bytes at the start of Pixel Data's value kept in memory: the parser peeks at them (an implicit-VR item tag). */
const KEPT_VALUE_BYTES = 64;

const NATIVE_LITTLE_ENDIAN = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

/**
 * The file range of Pixel Data's value (less its first bytes) when the head holds the Part 10 header and every
 * element before Pixel Data, and the syntax is native little-endian with Pixel Data of defined length; else null.
 */
export function unreadPixelRange(head: Uint8Array, fileSize: number): { start: number; end: number } | null {
  if (head.length < 132 || head[128] !== 0x44 || head[129] !== 0x49 || head[130] !== 0x43 || head[131] !== 0x4d)
    return null;
  try {
    const buffer = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
    const meta = dicomParser.readPart10Header(buffer);
    const uid = (meta.string('x00020010') ?? '').trim();
    if (!NATIVE_LITTLE_ENDIAN.has(uid)) return null;
    // Stops at Pixel Data's header: its value (beyond the head) is never looked at.
    const dataSet = dicomParser.parseDicom(buffer, { untilTag: 'x7fe00010' });
    const element = dataSet.elements.x7fe00010;
    if (!element || element.encapsulatedPixelData || element.hadUndefinedLength) return null;
    const start = element.dataOffset + KEPT_VALUE_BYTES;
    const end = Math.min(element.dataOffset + element.length, fileSize);
    return start < end ? { start, end } : null;
  } catch {
    return null; // damaged, or an element runs past the head: the whole file is read and the parser says why
  }
}

/** What summarizeImageFile reports of the file at `file` (see the module comment). */
export async function summarizeImageFileOnDisk(
  file: string,
  displayName: string,
  options: { readonly frame?: number } = {},
  /** Tests only: stream files from this size on (default 1 MB), reading this much first (default 256 KB). */
  sizes: { readonly minBytes?: number; readonly headBytes?: number } = {},
): Promise<ImageSummary> {
  const minBytes = sizes.minBytes ?? STREAMED_SUMMARY_MIN_BYTES;
  const headBytes = sizes.headBytes ?? HEAD_BYTES;
  const { fd, size } = openImageFileSafely(file, displayName);
  try {
    // Zero-filled, so the pages of a part never read are never touched either.
    const bytes = Buffer.alloc(size);
    const headLength = readFileRange(fd, displayName, bytes, 0, 0, Math.min(size, headBytes));
    const hole =
      size >= minBytes && headLength === Math.min(size, headBytes)
        ? unreadPixelRange(bytes.subarray(0, headLength), size)
        : null;
    if (hole === null) {
      const read = headLength + readFileRange(fd, displayName, bytes, headLength, headLength, size);
      return await summarizeImageFile(displayName, read === size ? bytes : bytes.subarray(0, read), options);
    }
    // Everything but the hole: the rest of the head's part, and the elements after Pixel Data.
    const holeStart = Math.max(hole.start, headLength);
    const beforeHole = readFileRange(fd, displayName, bytes, headLength, headLength, holeStart);
    const afterHole = readFileRange(fd, displayName, bytes, hole.end, hole.end, size);
    if (headLength + beforeHole < holeStart || hole.end + afterHole < size) {
      // The file shrank since it was opened: read what is there now, as a whole read would have.
      const read = readFileRange(fd, displayName, bytes, 0, 0, size);
      return await summarizeImageFile(displayName, bytes.subarray(0, read), options);
    }
    let filled = false;
    return await summarizeImageFile(displayName, bytes, options, {
      read: (start, end, into) => readFileRange(fd, displayName, into, 0, start, end),
      fill: () => {
        if (filled) return;
        filled = true;
        if (readFileRange(fd, displayName, bytes, holeStart, holeStart, hole.end) < hole.end - holeStart)
          throw new ImageDecodeError('corrupt-file', displayName, 'the file is truncated inside Pixel Data');
      },
    });
  } finally {
    closeSync(fd);
  }
}
