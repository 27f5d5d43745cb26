/** Pixel Data -> one frame of stored values (grey; colour converted to luma). */
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { ImageDecodeError } from './errors';
import { checkImageSize, readJ2kSize } from './limits';
import { jpegDamageWarning, readJpegFrameHeader } from './formats';
import type { TransferSyntax } from './transfer-syntax';
import { frameKernels } from './frame-kernels';
import { centralPart } from './windows';

export interface PixelModule {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  readonly signed: boolean;
  readonly planarConfiguration: number;
  readonly photometric: string;
  readonly frames: number;
}

const GREY = new Set(['MONOCHROME1', 'MONOCHROME2']);
const COLOUR = new Set(['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_PARTIAL_422', 'YBR_PARTIAL_420', 'YBR_ICT', 'YBR_RCT']);

export function readPixelModule(fileName: string, dataSet: DataSet): PixelModule {
  const us = (tag: string) => (dataSet.elements[tag] ? dataSet.uint16(tag) : undefined);
  const rows = us('x00280010');
  const columns = us('x00280011');
  if (!rows || !columns) {
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `the image size is missing or zero (Rows ${rows ?? 'absent'}, Columns ${columns ?? 'absent'})`,
    );
  }
  const bitsAllocated = us('x00280100');
  if (bitsAllocated === undefined)
    throw new ImageDecodeError('corrupt-file', fileName, 'Bits Allocated (0028,0100) is missing');
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new ImageDecodeError(
      'unsupported',
      fileName,
      `Bits Allocated ${bitsAllocated} is not supported (8, 16 or 32)`,
    );
  }
  const bitsStored = us('x00280101') ?? bitsAllocated;
  const highBit = us('x00280102') ?? bitsStored - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored) {
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `inconsistent bit depths: Bits Allocated ${bitsAllocated}, Bits Stored ${bitsStored}, High Bit ${highBit}`,
    );
  }
  const samplesPerPixel = us('x00280002') ?? 1;
  checkImageSize(fileName, columns, rows, 'Rows and Columns', Math.max(1, samplesPerPixel), bitsAllocated / 8);
  const photometric = (dataSet.string('x00280004') ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2'))
    .trim()
    .toUpperCase();
  if (photometric === 'PALETTE COLOR')
    throw new ImageDecodeError(
      'unsupported',
      fileName,
      'PALETTE COLOR images are not supported (radiographs are grey)',
    );
  if (!GREY.has(photometric) && !COLOUR.has(photometric)) {
    throw new ImageDecodeError('unsupported', fileName, `photometric interpretation "${photometric}" is not supported`);
  }
  const expectedSamples = GREY.has(photometric) ? 1 : 3;
  if (samplesPerPixel !== expectedSamples) {
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `Samples per Pixel ${samplesPerPixel} does not match photometric interpretation ${photometric}`,
    );
  }
  const framesText = dataSet.string('x00280008');
  const frames = framesText === undefined || framesText.trim() === '' ? 1 : Number(framesText.trim());
  if (!Number.isInteger(frames) || frames < 1)
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `Number of Frames "${framesText}" is not a positive whole number`,
    );
  return {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    signed: us('x00280103') === 1,
    planarConfiguration: us('x00280006') ?? 0,
    photometric,
    frames,
  };
}

/** One frame's stored values: grey, sign applied, colour reduced to luma. */
export interface StoredFrame {
  /**
   * Float64Array only for unsigned 32-bit stored values, which do not fit an Int32Array; the decoded samples
   * themselves (no copy) when they already are the stored values (unsigned, Bits Stored filling 8 or 16 bits).
   */
  readonly values: Int32Array | Float64Array | Uint16Array | Uint8Array;
  readonly min: number;
  readonly max: number;
  /** Damage the decoder worked around. */
  readonly warnings?: readonly string[];
}

/**
 * What `cvm info` needs of a frame whose stored values are its samples (grey, unsigned, Bits Stored filling 8 or
 * 16 bits): their range, and how many pixels of the automatic window's central part hold each value
 * (`centralCounts[v]`), counted while the frame streams from the file, never held whole (native-summary.ts).
 */
export interface FrameStatistics {
  readonly values: null;
  readonly min: number;
  readonly max: number;
  readonly centralCounts: Uint32Array;
  readonly warnings?: readonly string[];
}

/** Pixel Data left unread in the bytes given to the decoder (`cvm info` of a large native file). */
export interface UnreadPixelData {
  /** Reads the file's bytes start..end into `into` (from its start); returns how many were read. */
  readonly read: (start: number, end: number, into: Uint8Array) => number;
  /** Reads the unread part into the bytes given to the decoder, which then hold the whole file. */
  readonly fill: () => void;
}

/** Bytes of a frame read at a time by frameStatistics: small enough to stay in cache, large for few reads. */
const STATISTICS_CHUNK_BYTES = 1 << 20;

/** The range and central counts of frame bytes start.. of an open file, read a chunk at a time. */
function frameStatistics(fileName: string, unread: UnreadPixelData, start: number, m: PixelModule): FrameStatistics {
  const bytesPerSample = m.bitsAllocated / 8;
  const width = m.columns;
  const count = m.rows * width;
  const { x0, x1, y0, y1 } = centralPart(width, m.rows);
  const chunkSamples = Math.min(count, STATISTICS_CHUNK_BYTES / bytesPerSample);
  // statisticsSuffice admits 8 and 16 bits only.
  const kernels = frameKernels(m.bitsAllocated === 8 ? 8 : 16, chunkSamples * bytesPerSample);
  for (let first = 0; first < count; first += chunkSamples) {
    const n = Math.min(chunkSamples, count - first);
    const from = start + first * bytesPerSample;
    if (unread.read(from, from + n * bytesPerSample, kernels.chunk) < n * bytesPerSample)
      throw new ImageDecodeError('corrupt-file', fileName, 'the file is truncated inside Pixel Data');
    kernels.range(n);
    // The central part of each row this chunk holds.
    for (let y = Math.max(y0, Math.floor(first / width)); y < y1 && y * width < first + n; y++) {
      const a = Math.max(y * width + x0, first);
      const b = Math.min(y * width + x1, first + n);
      if (a < b) kernels.count(a - first, b - first);
    }
  }
  return { values: null, min: kernels.min, max: kernels.max, centralCounts: kernels.counts() };
}

/**
 * Whether `cvm info` can take a native frame's statistics instead of its values: the samples are the stored
 * values (little-endian, grey, unsigned, Bits Stored = Bits Allocated = 8 or 16) and the display mapping is
 * linear (no Modality LUT, no VOI LUT applied), so the window comes from the stored values' counts.
 */
export function statisticsSuffice(dataSet: DataSet, m: PixelModule, syntax: TransferSyntax, uid: string): boolean {
  return (
    (uid === '1.2.840.10008.1.2' || uid === '1.2.840.10008.1.2.1') &&
    syntax.codec === null &&
    !syntax.bigEndian &&
    m.samplesPerPixel === 1 &&
    GREY.has(m.photometric) &&
    !m.signed &&
    (m.bitsAllocated === 8 || m.bitsAllocated === 16) &&
    m.bitsStored === m.bitsAllocated &&
    m.highBit === m.bitsStored - 1 &&
    dataSet.elements.x00283000 === undefined &&
    (dataSet.elements.x00283010 === undefined || (dataSet.string('x00281050') ?? '') !== '')
  );
}

function pixelDataElement(fileName: string, dataSet: DataSet): Element {
  const element = dataSet.elements.x7fe00010;
  if (!element)
    throw new ImageDecodeError('corrupt-file', fileName, 'the file has no Pixel Data (7FE0,0010): it is not an image');
  if (element.dataOffset + (element.encapsulatedPixelData ? 0 : element.length) > dataSet.byteArray.length) {
    throw new ImageDecodeError('corrupt-file', fileName, 'the file is truncated inside Pixel Data');
  }
  return element;
}

/** Native (uncompressed) frame bytes, little-endian. */
function nativeFrameBytes(
  fileName: string,
  dataSet: DataSet,
  element: Element,
  m: PixelModule,
  frame: number,
  bigEndian: boolean,
): Uint8Array {
  const frameBytes = (m.rows * m.columns * m.samplesPerPixel * m.bitsAllocated) / 8;
  const available = element.length;
  const needed = frameBytes * m.frames;
  if (available < needed) {
    const problem =
      element.dataOffset + element.length > dataSet.byteArray.length
        ? 'the file is truncated inside Pixel Data'
        : 'inconsistent dimensions';
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `${problem}: Pixel Data holds ${available} bytes but ${m.columns}x${m.rows} pixels x ${m.samplesPerPixel} samples x ${m.bitsAllocated} bits x ${m.frames} frame(s) need ${needed}`,
    );
  }
  const start = element.dataOffset + frameBytes * frame;
  const bytes = dataSet.byteArray.subarray(start, start + frameBytes);
  const swapUnit = m.bitsAllocated / 8 > 1 ? m.bitsAllocated / 8 : element.vr === 'OW' ? 2 : 1;
  if (!bigEndian || swapUnit === 1) return bytes;
  const swapped = new Uint8Array(bytes);
  /* eslint-disable @typescript-eslint/no-non-null-assertion --
     big-endian swap; i stays below words.length, and a native frame is a whole number of swapUnit-byte samples */
  if (swapUnit === 2) {
    const words = new Uint16Array(swapped.buffer, 0, swapped.length >> 1);
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!;
      words[i] = ((v & 0xff) << 8) | (v >> 8);
    }
    return swapped;
  }
  for (let i = 0; i < bytes.length; i += swapUnit) {
    for (let k = 0; k < swapUnit; k++) swapped[i + k] = bytes[i + swapUnit - 1 - k]!;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return swapped;
}

function encapsulatedFrame(
  fileName: string,
  dataSet: DataSet,
  element: Element,
  m: PixelModule,
  frame: number,
): Uint8Array {
  try {
    const fragments = element.fragments ?? [];
    if (fragments.length === 0)
      throw new ImageDecodeError('corrupt-file', fileName, 'the compressed Pixel Data has no fragments');
    if (m.frames === 1)
      return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments.length);
    const offsets = element.basicOffsetTable ?? [];
    if (offsets.length > 0) return dicomParser.readEncapsulatedImageFrame(dataSet, element, frame, offsets);
    if (fragments.length === m.frames)
      return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, frame, 1);
    const table = dicomParser.createJPEGBasicOffsetTable(dataSet, element);
    return dicomParser.readEncapsulatedImageFrame(dataSet, element, frame, table);
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `frame ${frame + 1} of the compressed Pixel Data cannot be located (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

interface RawFrame {
  readonly bytes: Uint8Array;
  readonly bitsAllocated: number;
  readonly photometric: string;
  readonly planar: boolean;
  /** Native data keeps its bits under High Bit; codecs return them from bit 0. */
  readonly shift: number;
  /** Codec output: lossy codecs can overshoot Bits Stored, so values are clamped rather than masked. */
  readonly fromCodec: boolean;
  readonly warnings?: readonly string[];
}

/**
 * The size the compressed frame itself declares (JPEG SOF, JPEG-LS SOF55, JPEG 2000 SIZ), checked against
 * the limits before the codec allocates anything: a DICOM header that says 512 x 512 around a codestream
 * that says 30000 x 30000 is refused here.
 */
function checkCodestreamSize(fileName: string, encoded: Uint8Array, m: PixelModule, syntax: TransferSyntax): void {
  let declared: { width: number; height: number } | null = null;
  if (syntax.codec === 'DecodeJpeg2000' || syntax.codec === 'DecodeHtJpeg2000') declared = readJ2kSize(encoded);
  else if (syntax.codec === 'DecodeJpeg' || syntax.codec === 'DecodeJpegLs') declared = readJpegFrameHeader(encoded);
  if (!declared) return;
  // A smaller mismatch is left to the codec and the check after decoding, which name the problem.
  checkImageSize(
    fileName,
    declared.width,
    declared.height,
    `the ${syntax.name} frame header`,
    m.samplesPerPixel,
    m.bitsAllocated / 8,
  );
}

async function decodeCompressed(
  fileName: string,
  encoded: Uint8Array,
  m: PixelModule,
  syntax: TransferSyntax,
): Promise<RawFrame> {
  checkCodestreamSize(fileName, encoded, m, syntax);
  // The codecs load with the first compressed frame: a native file (`cvm info` of one) never loads them.
  const { CodecError, nativeDecode } = await import('./native-codecs');
  const codec = syntax.codec;
  if (codec === null) throw new Error(`decodeCompressed: transfer syntax ${syntax.name} names no codec`);
  if (codec === 'DecodeJpeg' && m.samplesPerPixel === 1 && m.bitsAllocated === 8) {
    // Grey 8-bit JPEG: libjpeg-turbo's decoder gives the same samples faster (null: not such a stream, or damaged).
    const header = readJpegFrameHeader(encoded);
    const grey =
      header?.sequentialHuffman && header.precision === 8 && header.components === 1
        ? await (await import('./jpeg-grey')).decodeJpegGrey(encoded, 8)
        : null;
    if (grey && grey.width === m.columns && grey.height === m.rows)
      return {
        bytes: grey.data as Uint8Array,
        bitsAllocated: 8,
        photometric: m.photometric,
        planar: false,
        shift: 0,
        fromCodec: true,
        warnings: jpegDamageWarning(encoded, []),
      };
  }
  try {
    const decoded = await nativeDecode(
      codec,
      encoded,
      {
        width: m.columns,
        height: m.rows,
        bitsAllocated: m.bitsAllocated,
        bitsStored: m.bitsStored,
        samplesPerPixel: m.samplesPerPixel,
        pixelRepresentation: m.signed ? 1 : 0,
        planarConfiguration: m.planarConfiguration,
        photometric: m.photometric,
      },
      m.samplesPerPixel === 3,
    );
    if (decoded.width !== m.columns || decoded.height !== m.rows) {
      throw new ImageDecodeError(
        'corrupt-file',
        fileName,
        `inconsistent dimensions: the header says ${m.columns}x${m.rows} but the compressed frame is ${decoded.width}x${decoded.height}`,
      );
    }
    return {
      bytes: decoded.bytes,
      bitsAllocated: decoded.bitsAllocated,
      photometric: decoded.photometric,
      planar: decoded.samplesPerPixel === 3 && decoded.planarConfiguration === 1,
      shift: 0,
      fromCodec: true,
      warnings:
        syntax.codec === 'DecodeJpeg'
          ? jpegDamageWarning(encoded, decoded.warnings)
          : decoded.warnings.length > 0
            ? [
                `the ${syntax.name} data is damaged and parts of the image may be wrong: ${decoded.warnings.slice(0, 4).join('; ')}`,
              ]
            : [],
    };
  } catch (error) {
    if (error instanceof CodecError) {
      throw new ImageDecodeError(
        'corrupt-file',
        fileName,
        `the ${syntax.name} pixel data cannot be decoded (${error.message.trim() || 'codec error'})`,
      );
    }
    throw error;
  }
}

function sampleView(bytes: Uint8Array, bitsAllocated: number): Uint8Array | Uint16Array | Uint32Array {
  // A copy (new Uint8Array, not Buffer#slice, which shares memory) when the offset is not aligned.
  const aligned = bytes.byteOffset % (bitsAllocated / 8) === 0 ? bytes : new Uint8Array(bytes);
  if (bitsAllocated === 8) return aligned;
  if (bitsAllocated === 16) return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1);
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
}

/** Extracts Bits Stored under High Bit, sign-extends, and reduces colour to luma. */
function toStored(raw: RawFrame, m: PixelModule, fileName: string): StoredFrame {
  const count = m.rows * m.columns;
  const samples = sampleView(raw.bytes, raw.bitsAllocated);
  const channels = GREY.has(raw.photometric) ? 1 : 3;
  if (samples.length < count * channels) {
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `inconsistent dimensions: the decoded frame holds ${samples.length} samples, ${m.columns}x${m.rows}x${channels} expected`,
    );
  }
  if (
    channels === 1 &&
    !m.signed &&
    (raw.fromCodec || raw.shift === 0) &&
    !(samples instanceof Uint32Array) &&
    m.bitsStored === samples.BYTES_PER_ELEMENT * 8
  ) {
    // The samples already are the stored values: no copy (a 2000x2400 frame saved 19 MB and a pass).
    const values = samples.length === count ? samples : samples.subarray(0, count);
    const [min, max] = rangeOf(values, count);
    return { values, min, max, warnings: raw.warnings };
  }
  const unsigned32 = m.bitsStored === 32 && !m.signed;
  const values = unsigned32 ? new Float64Array(count) : new Int32Array(count);
  if (channels === 1) {
    const range = raw.fromCodec
      ? clampedCodecValues(samples, values, count, m.bitsStored, m.signed)
      : greyValues(samples, values, count, raw.shift, m.bitsStored, m.signed);
    return { values, min: range[0], max: range[1], warnings: raw.warnings };
  }
  lumaInto(values, samples, raw, count);
  const [min, max] = rangeOf(values, count);
  return { values, min, max, warnings: raw.warnings };
}

/* eslint-disable @typescript-eslint/no-non-null-assertion --
   count is at most the samples' length (toStored checks samples.length >= count * channels before calling these
   kernels), and values and out hold count entries */
/** [min, max] of the first count values. */
function rangeOf(values: ArrayLike<number>, count: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Bits Stored under High Bit, sign-extended; returns [min, max]. */
function greyValues(
  samples: Uint8Array | Uint16Array | Uint32Array,
  values: Int32Array | Float64Array,
  count: number,
  shift: number,
  bits: number,
  signed: boolean,
): [number, number] {
  if (shift === 0 && bits === samples.BYTES_PER_ELEMENT * 8 && !signed) {
    values.set(samples.subarray(0, count));
    return rangeOf(values, count);
  }
  let min = Infinity;
  let max = -Infinity;
  const mask = bits >= 32 ? -1 : 2 ** bits - 1;
  const signBit = 2 ** (bits - 1);
  const full = 2 ** bits;
  for (let i = 0; i < count; i++) {
    let v = (samples[i]! >>> shift) & mask;
    if (bits === 32 && !signed) v >>>= 0;
    else if (signed && v >= signBit) v -= full;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Codec output: sign taken from the container or from Bits Stored, then clamped to the Bits Stored range. */
function clampedCodecValues(
  samples: Uint8Array | Uint16Array | Uint32Array,
  values: Int32Array | Float64Array,
  count: number,
  bits: number,
  signed: boolean,
): [number, number] {
  const containerBits = samples.BYTES_PER_ELEMENT * 8;
  const low = signed ? -(2 ** (bits - 1)) : 0;
  const high = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    let v = samples[i]!;
    if (signed) {
      if (v >= 2 ** (containerBits - 1)) v -= 2 ** containerBits;
      else if (v > high) v -= 2 ** bits;
    }
    if (v < low) v = low;
    else if (v > high) v = high;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Colour -> luma. YBR_FULL's Y already is luma; YBR_FULL_422 native data is Y0 Y1 Cb Cr per pixel pair. */
function lumaInto(out: Int32Array | Float64Array, s: ArrayLike<number>, raw: RawFrame, count: number): void {
  const p = raw.photometric;
  if (p === 'YBR_FULL_422' && !raw.planar) {
    for (let pair = 0, i = 0; i < count; pair += 4, i += 2) {
      out[i] = s[pair]!;
      if (i + 1 < count) out[i + 1] = s[pair + 1]!;
    }
    return;
  }
  const at = raw.planar ? (i: number, c: number) => s[c * count + i]! : (i: number, c: number) => s[i * 3 + c]!;
  if (p === 'YBR_FULL' || p === 'YBR_ICT' || p === 'YBR_RCT') {
    for (let i = 0; i < count; i++) out[i] = at(i, 0);
    return;
  }
  if (p === 'YBR_PARTIAL_422' || p === 'YBR_PARTIAL_420') {
    for (let i = 0; i < count; i++) out[i] = Math.round(((at(i, 0) - 16) * 255) / 219);
    return;
  }
  for (let i = 0; i < count; i++) out[i] = Math.round(0.299 * at(i, 0) + 0.587 * at(i, 1) + 0.114 * at(i, 2));
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */

export async function decodeStoredFrame(
  fileName: string,
  dataSet: DataSet,
  m: PixelModule,
  syntax: TransferSyntax,
  frame: number,
  unread?: UnreadPixelData,
): Promise<StoredFrame | FrameStatistics> {
  const element = pixelDataElement(fileName, dataSet);
  if (frame < 0 || frame >= m.frames || !Number.isInteger(frame)) {
    throw new ImageDecodeError(
      'invalid-request',
      fileName,
      `frame ${frame + 1} was asked for but the file has ${m.frames} frame(s)`,
    );
  }
  if (syntax.codec === null) {
    if (element.encapsulatedPixelData)
      throw new ImageDecodeError(
        'corrupt-file',
        fileName,
        `Pixel Data is compressed but the transfer syntax ${syntax.name} says uncompressed`,
      );
    const bytes = nativeFrameBytes(fileName, dataSet, element, m, frame, syntax.bigEndian);
    // Only given when statisticsSuffice: the frame is counted as it streams from the file (whose bytes the data
    // set's byte array holds from offset 0: a Part 10 file, neither inflated nor given a preamble).
    if (unread) {
      const frameBytes = bytes.length;
      return frameStatistics(fileName, unread, element.dataOffset + frameBytes * frame, m);
    }
    return toStored(
      {
        bytes,
        bitsAllocated: m.bitsAllocated,
        photometric: m.photometric,
        planar: m.planarConfiguration === 1,
        shift: m.highBit + 1 - m.bitsStored,
        fromCodec: false,
      },
      m,
      fileName,
    );
  }
  if (!element.encapsulatedPixelData)
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `the transfer syntax ${syntax.name} says compressed but Pixel Data is not encapsulated`,
    );
  const encoded = encapsulatedFrame(fileName, dataSet, element, m, frame);
  const raw = await decodeCompressed(fileName, encoded, m, syntax);
  return toStored(raw, m, fileName);
}
