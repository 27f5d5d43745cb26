/**
 * Decode once: a derived, lossless copy of a stored image's display pixels (the 16-bit data of
 * ImagePixels, its windows and the image info), so that opening or analysing a stored study does not run
 * the codec again. A JPEG 2000 radiograph takes over a second to decode; its derived copy reads in tens of
 * milliseconds.
 *
 * File layout (`<dataDir>/derived/<sha256 of the stored file>.pixels`):
 *   "CVMPIXELS1\n" | uint32 LE header length | header JSON | payload
 * where the payload is the pixel rows, each row as differences from the pixel to its left (16-bit, wrapping),
 * deflated (node:zlib); the header holds the source file's sha256, the payload's sha256 and length, and the
 * OpenedImage without its pixel data. A copy whose header, hash or size does not match is not used (the
 * caller decodes the stored file again and writes a new copy). Nothing here is the record: the database and
 * images/ are; a missing copy is rebuilt on first use (e.g. after a restore, which does not carry them).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync, inflateRawSync, constants as zlibConstants } from 'node:zlib';
import type { OpenedImage } from '../../core/api/image';
import { MAX_PIXELS, MAX_SIDE } from './limits';
import { readImageFileSafely } from './read-file';

export const DERIVED_DIR_NAME = 'derived';
const MAGIC = Buffer.from('CVMPIXELS1\n', 'latin1');
const EXTENSION = '.pixels';

interface Header {
  readonly sourceSha256: string;
  readonly width: number;
  readonly height: number;
  readonly payloadBytes: number;
  readonly payloadSha256: string;
  readonly image: { readonly info: OpenedImage['info']; readonly pixels: Omit<OpenedImage['pixels'], 'data'> };
}

/** Where the derived copy of the stored file with this content hash lives. */
export function derivedPixelsPath(dataDir: string, sourceSha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sourceSha256)) throw new Error(`not a sha256: ${sourceSha256}`);
  return path.join(dataDir, DERIVED_DIR_NAME, `${sourceSha256}${EXTENSION}`);
}

/** Row-wise left differences: smooth radiographs become small numbers that deflate well and fast. */
/* eslint-disable @typescript-eslint/no-non-null-assertion -- i runs below end <= data.length (diff.length) */
function toDifferences(data: Uint16Array, width: number): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let row = 0; row < data.length; row += width) {
    let previous = 0;
    const end = Math.min(data.length, row + width);
    for (let i = row; i < end; i++) {
      const v = data[i]!;
      out[i] = (v - previous) & 0xffff;
      previous = v;
    }
  }
  return out;
}

function fromDifferences(diff: Uint16Array, width: number): Uint16Array {
  // In place: each value is replaced by the running sum of its row.
  for (let row = 0; row < diff.length; row += width) {
    let previous = 0;
    const end = Math.min(diff.length, row + width);
    for (let i = row; i < end; i++) {
      previous = (previous + diff[i]!) & 0xffff;
      diff[i] = previous;
    }
  }
  return diff;
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The file's bytes for an image decoded from the stored file with hash `sourceSha256`. */
export function encodeDerivedPixels(image: OpenedImage, sourceSha256: string): Buffer {
  const { data, ...pixelsWithoutData } = image.pixels;
  const diff = toDifferences(data, image.pixels.width);
  const payload = deflateRawSync(new Uint8Array(diff.buffer, diff.byteOffset, diff.byteLength), {
    level: 1,
    strategy: zlibConstants.Z_DEFAULT_STRATEGY,
  });
  const header: Header = {
    sourceSha256,
    width: image.pixels.width,
    height: image.pixels.height,
    payloadBytes: payload.length,
    payloadSha256: sha256(payload),
    image: { info: image.info, pixels: pixelsWithoutData },
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length, 0);
  return Buffer.concat([MAGIC, length, json, payload]);
}

/** Why a derived copy was not used; `missing` is the ordinary first-time case. */
export type DerivedMiss = 'missing' | 'damaged' | 'other-source';

/** The image from a derived copy's bytes, or why they cannot be used. */
export function decodeDerivedPixels(bytes: Uint8Array, sourceSha256: string): OpenedImage | DerivedMiss {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < MAGIC.length + 4 || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) return 'damaged';
  const headerLength = buffer.readUInt32LE(MAGIC.length);
  const headerEnd = MAGIC.length + 4 + headerLength;
  if (headerEnd > buffer.length) return 'damaged';
  let header: Header;
  try {
    header = JSON.parse(buffer.subarray(MAGIC.length + 4, headerEnd).toString('utf8')) as Header;
  } catch {
    return 'damaged';
  }
  if (header.sourceSha256 !== sourceSha256) return 'other-source';
  const payload = buffer.subarray(headerEnd);
  if (payload.length !== header.payloadBytes || sha256(payload) !== header.payloadSha256) return 'damaged';
  // The same limits as every decoder (limits.ts): a copy that claims more is not used, never allocated.
  if (
    !Number.isSafeInteger(header.width) ||
    !Number.isSafeInteger(header.height) ||
    header.width <= 0 ||
    header.height <= 0 ||
    header.width > MAX_SIDE ||
    header.height > MAX_SIDE ||
    header.width * header.height > MAX_PIXELS
  )
    return 'damaged';
  const count = header.width * header.height;
  let raw: Buffer;
  try {
    raw = inflateRawSync(payload, { maxOutputLength: count * 2 });
  } catch {
    return 'damaged';
  }
  if (raw.length !== count * 2) return 'damaged';
  // A fresh, aligned buffer that the image owns (it may be transferred to another thread).
  const diff = new Uint16Array(count);
  new Uint8Array(diff.buffer).set(raw);
  const data = fromDifferences(diff, header.width);
  return { info: header.image.info, pixels: { ...header.image.pixels, data } };
}

/**
 * Writes the derived copy (temporary file, then rename: a reader sees the old copy, the new one or none).
 * Not fsynced: a copy lost to a crash is rebuilt, and one damaged by it fails its hash.
 */
export function writeDerivedPixels(dataDir: string, sourceSha256: string, image: OpenedImage): string {
  const file = derivedPixelsPath(dataDir, sourceSha256);
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(temp, encodeDerivedPixels(image, sourceSha256));
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return file;
}

/** The image from its derived copy, or why there is none to use. */
export function readDerivedPixels(dataDir: string, sourceSha256: string): OpenedImage | DerivedMiss {
  let bytes: Buffer;
  try {
    // A regular file only (a FIFO put there would hang a plain read).
    bytes = readImageFileSafely(derivedPixelsPath(dataDir, sourceSha256));
  } catch {
    return 'missing';
  }
  return decodeDerivedPixels(bytes, sourceSha256);
}

/** Removes the derived copy of one stored file (with its image). */
export function removeDerivedPixels(dataDir: string, sourceSha256: string): void {
  rmSync(derivedPixelsPath(dataDir, sourceSha256), { force: true });
}

/**
 * Removes derived copies whose stored file is no longer an image of the database (e.g. after restoring an
 * older backup), and leftovers of interrupted writes; returns how many files were removed.
 */
export function pruneDerivedPixels(dataDir: string, keep: ReadonlySet<string>): number {
  let names: string[];
  try {
    names = readdirSync(path.join(dataDir, DERIVED_DIR_NAME));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const sha = name.endsWith(EXTENSION) ? name.slice(0, -EXTENSION.length) : null;
    if (sha !== null && keep.has(sha)) continue;
    rmSync(path.join(dataDir, DERIVED_DIR_NAME, name), { force: true });
    removed++;
  }
  return removed;
}
