/**
 * Reading an image file named by a user, a data set or a database, safely: only a regular file (never a
 * FIFO, which would hang the read, a device such as /dev/zero, which never ends, or a folder), no larger
 * than the file limit, read up to the size it had when checked. Every refusal is an ImageDecodeError with
 * its own message (docs/security.md).
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { ImageDecodeError } from './errors';
import { MAX_IMAGE_FILE_BYTES } from './limits';

const MB = 1024 * 1024;

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'ELOOP') return 'is a loop of symbolic links';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  if (code === 'ENOTDIR') return 'does not exist (a part of its path is not a folder)';
  if (code === 'ENAMETOOLONG') return 'has a name too long for the system';
  return `cannot be read (${code ?? String(error)})`;
}

/** Checks that `file` is a regular file within the size limit; returns its size. */
export function checkReadableImageFile(file: string, displayName = file, maxBytes = MAX_IMAGE_FILE_BYTES): number {
  let stat: Stats;
  try {
    stat = statSync(file);
  } catch (error) {
    throw new ImageDecodeError('not-found', displayName, `the file ${describeFsError(error)}`);
  }
  if (!stat.isFile())
    throw new ImageDecodeError(
      'unsupported',
      displayName,
      `${kindOf(stat)}, not a regular file; only regular files are read`,
    );
  if (stat.size > maxBytes) {
    throw new ImageDecodeError(
      'unsupported',
      displayName,
      `the file is ${Math.round(stat.size / MB)} MB; the limit is ${Math.round(maxBytes / MB)} MB`,
    );
  }
  if (stat.size === 0) throw new ImageDecodeError('corrupt-file', displayName, 'the file is empty');
  return stat.size;
}

/** An open regular image file within the size limit, and its size when opened. */
export interface OpenedImageFile {
  readonly fd: number;
  readonly size: number;
}

/**
 * Opens a regular image file within the size limit (see the module comment); the caller closes `fd`.
 * Every refusal is an ImageDecodeError naming the file.
 */
export function openImageFileSafely(
  file: string,
  displayName = file,
  maxBytes = MAX_IMAGE_FILE_BYTES,
): OpenedImageFile {
  checkReadableImageFile(file, displayName, maxBytes);
  let fd: number;
  try {
    // The file could be swapped for a FIFO between the check and the open: O_NONBLOCK keeps the open from
    // hanging, and fstat below checks what was actually opened.
    fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new ImageDecodeError('not-found', displayName, `the file ${describeFsError(error)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new ImageDecodeError(
        'unsupported',
        displayName,
        `${kindOf(stat)}, not a regular file; only regular files are read`,
      );
    if (stat.size > maxBytes)
      throw new ImageDecodeError(
        'unsupported',
        displayName,
        `the file is ${Math.round(stat.size / MB)} MB; the limit is ${Math.round(maxBytes / MB)} MB`,
      );
    return { fd, size: stat.size };
  } catch (error) {
    closeSync(fd);
    if (error instanceof ImageDecodeError) throw error;
    throw new ImageDecodeError('not-found', displayName, `the file ${describeFsError(error)}`);
  }
}

/**
 * Reads bytes start..end of an open file into `into` at `offset`; returns how many were read (fewer only when
 * the file ends first). A read error is an ImageDecodeError naming the file.
 */
export function readFileRange(
  fd: number,
  displayName: string,
  into: Uint8Array,
  offset: number,
  start: number,
  end: number,
): number {
  let read = 0;
  try {
    while (start + read < end) {
      const n = readSync(fd, into, offset + read, end - start - read, start + read);
      if (n === 0) break;
      read += n;
    }
  } catch (error) {
    throw new ImageDecodeError('not-found', displayName, `the file ${describeFsError(error)}`);
  }
  return read;
}

/** Reads a regular image file within the size limit (see the module comment). */
export function readImageFileSafely(file: string, displayName = file, maxBytes = MAX_IMAGE_FILE_BYTES): Buffer {
  const { fd, size } = openImageFileSafely(file, displayName, maxBytes);
  try {
    const buffer = Buffer.allocUnsafe(size);
    const read = readFileRange(fd, displayName, buffer, 0, 0, size);
    return read === size ? buffer : buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether the first bytes look like an image this app reads: PNG, JPEG, TIFF, a DICOM Part 10 file or a bare DICOM data
 * set.
 */
export function looksLikeImage(head: Uint8Array): boolean {
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return true;
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return true;
  if (
    head.length >= 4 &&
    ((head[0] === 0x49 && head[1] === 0x49 && head[2] === 0x2a && head[3] === 0) ||
      (head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && head[3] === 0x2a))
  )
    return true;
  if (head.length >= 132 && head[128] === 0x44 && head[129] === 0x49 && head[130] === 0x43 && head[131] === 0x4d)
    return true;
  // A bare data set or a meta header without preamble starts with a low group number (0002..0028), little or big
  // endian.
  if (head.length >= 8) {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const le = view.getUint16(0, true);
    const be = view.getUint16(0, false);
    if ((le >= 0x0002 && le <= 0x0028) || (be >= 0x0002 && be <= 0x0028)) return true;
  }
  return false;
}
