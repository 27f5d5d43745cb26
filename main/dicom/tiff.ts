/**
 * TIFF images (scanned films, many cephalostat exports): the first page, grey 8 or 16 bit (BlackIsZero or
 * WhiteIsZero) or 8-bit RGB (shown as luma), strips uncompressed, LZW, Deflate or PackBits, with the
 * horizontal predictor, or JPEG (compression 7: grey, YCbCr or RGB, 8 bit, the tables shared in JPEGTables);
 * in strips or tiles.
 * The resolution tags are a spacing source only when they are real: ResolutionUnit inch or cm and not the
 * 72 dpi that many writers put in by default. The declared size is checked before
 * anything is allocated. See docs/dicom.md.
 */
import { inflateSync } from 'node:zlib';
import type { OpenedImage, Spacing } from '../../core/api/image';
import { describeTagTurn, orientationOfTag, orientPixels, uprightSize } from '../../core/inference/orientation';
import { ImageDecodeError } from './errors';
import { checkImageSize } from './limits';
import { decodeJpegFile, EMPTY_META } from './raster';

export { isTiff } from './formats';
import { FULL_RANGE_WINDOW, automaticWindow } from './windows';

/** Largest image accepted (width x height), checked from the header before decoding. */
export const TIFF_MAX_PIXELS = 100_000_000;

const TAG = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  photometric: 262,
  stripOffsets: 273,
  samplesPerPixel: 277,
  rowsPerStrip: 278,
  stripByteCounts: 279,
  xResolution: 282,
  yResolution: 283,
  planarConfig: 284,
  orientation: 274,
  resolutionUnit: 296,
  predictor: 317,
  tileWidth: 322,
  tileLength: 323,
  tileOffsets: 324,
  tileByteCounts: 325,
  jpegTables: 347,
  colorMap: 320,
  sampleFormat: 339,
} as const;

// Bytes per value of each field type; 13 (IFD) and BigTIFF's 16-18 (LONG8, SLONG8, IFD8) included.
const TYPE_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};

/** The spacing the resolution tags give, or null when they are absent, a default or not physical. */
export function tiffSpacing(xRes: number | null, yRes: number | null, unit: number): Spacing | null {
  if (xRes === null || yRes === null || !(xRes > 0) || !(yRes > 0)) return null;
  if (unit !== 2 && unit !== 3) return null; // 1 = no absolute unit
  const perMm = unit === 2 ? 1 / 25.4 : 1 / 10;
  const dpi = (r: number): number => (unit === 2 ? r : r * 2.54);
  // 72 dpi (and 96, the other screen default) is what writers put when they know nothing.
  if ([72, 96].some((d) => Math.abs(dpi(xRes) - d) < 0.01 && Math.abs(dpi(yRes) - d) < 0.01)) return null;
  const colMm = 1 / (xRes * perMm);
  const rowMm = 1 / (yRes * perMm);
  if (!(colMm >= 0.01 && colMm <= 2 && rowMm >= 0.01 && rowMm <= 2)) return null;
  const u = unit === 2 ? 'inch' : 'cm';
  return {
    rowMm,
    colMm,
    source: 'TIFF resolution',
    detail: `TIFF resolution ${xRes.toFixed(1)} x ${yRes.toFixed(1)} per ${u}: ${colMm.toFixed(4)} x ${rowMm.toFixed(4)} mm per pixel (as scanned; check the scale if the film was magnified)`,
  };
}

/** PackBits (TIFF compression 32773). */
export function unpackBits(src: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let i = 0;
  let o = 0;
  while (i < src.length && o < expected) {
    /* eslint-disable @typescript-eslint/no-non-null-assertion -- i < src.length, checked by the loop condition */
    const n = src[i++]!;
    /* eslint-enable @typescript-eslint/no-non-null-assertion */
    if (n < 128) {
      const count = Math.min(n + 1, expected - o, src.length - i);
      out.set(src.subarray(i, i + count), o);
      i += n + 1;
      o += count;
    } else if (n > 128) {
      const count = Math.min(257 - n, expected - o);
      out.fill(src[i++] ?? 0, o, o + count);
      o += count;
    }
  }
  return out;
}

/** TIFF LZW (MSB first, code width grows one code early), up to `expected` bytes. */
export function lzwDecode(src: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let o = 0;
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const length = new Int32Array(4096);
  for (let k = 0; k < 256; k++) {
    prefix[k] = -1;
    suffix[k] = k;
    length[k] = 1;
  }
  let next = 258;
  let width = 9;
  let bitPos = 0;
  let previous = -1;
  const totalBits = src.length * 8;
  /* eslint-disable @typescript-eslint/no-non-null-assertion --
     codes are below 4096 (width <= 12 bits) and below next, the size of the prefix, suffix and length tables, 4096;
     bit positions stay below totalBits */
  const readCode = (): number => {
    if (bitPos + width > totalBits) return 257;
    let code = 0;
    for (let b = 0; b < width; b++) {
      const bit = (src[(bitPos + b) >> 3]! >> (7 - ((bitPos + b) & 7))) & 1;
      code = (code << 1) | bit;
    }
    bitPos += width;
    return code;
  };
  const firstByte = (code: number): number => {
    let c = code;
    while (prefix[c]! >= 0) c = prefix[c]!;
    return suffix[c]!;
  };
  const emit = (code: number): void => {
    const len = length[code]!;
    let c = code;
    for (let k = len - 1; k >= 0; k--) {
      if (o + k < expected) out[o + k] = suffix[c]!;
      c = prefix[c]!;
    }
    o += len;
  };
  while (o < expected) {
    const code = readCode();
    if (code === 257) break;
    if (code === 256) {
      next = 258;
      width = 9;
      previous = -1;
      continue;
    }
    if (previous < 0) {
      if (code > 255) throw new Error(`LZW: code ${code} after a clear code`);
      emit(code);
      previous = code;
      continue;
    }
    if (code < next) {
      emit(code);
      if (next < 4096) {
        prefix[next] = previous;
        suffix[next] = firstByte(code);
        length[next] = length[previous]! + 1;
        next++;
      }
    } else if (code === next && next < 4096) {
      prefix[next] = previous;
      suffix[next] = firstByte(previous);
      length[next] = length[previous]! + 1;
      next++;
      emit(code);
    } else {
      throw new Error(`LZW: code ${code} is not defined yet`);
    }
    previous = code;
    if (next + 1 >= 1 << width && width < 12) width++;
    /* eslint-enable @typescript-eslint/no-non-null-assertion */
  }
  return out;
}

interface Ifd {
  readonly values: Map<number, number[]>;
}

export async function decodeTiffFile(
  fileName: string,
  bytes: Uint8Array,
  ignoreOrientationTag = false,
  firstPage = false,
): Promise<OpenedImage> {
  const fail = (problem: string, code: 'corrupt-file' | 'unsupported' = 'corrupt-file'): never => {
    throw new ImageDecodeError(code, fileName, problem);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  const u16 = (at: number): number =>
    at + 2 <= bytes.length ? view.getUint16(at, little) : fail('the TIFF is truncated');
  const u32 = (at: number): number =>
    at + 4 <= bytes.length ? view.getUint32(at, little) : fail('the TIFF is truncated');
  // BigTIFF (version 43): 8-byte offsets and counts, 20-byte directory entries, values inline up to 8 bytes.
  const big = u16(2) === 43;
  const u64 = (at: number): number => {
    if (at + 8 > bytes.length) return fail('the TIFF is truncated');
    const v = view.getBigUint64(at, little);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : fail('the TIFF holds an offset beyond 2^53 bytes');
  };
  const offset = big ? u64 : u32;
  if (big && (u16(4) !== 8 || u16(6) !== 0)) fail('the BigTIFF header does not declare 8-byte offsets');
  const firstOffset = offset(big ? 8 : 4);
  const [countBytes, entryBytes, inlineBytes] = big ? [8, 20, 8] : [2, 12, 4];
  if (firstOffset < 8 || firstOffset + countBytes > bytes.length)
    fail('the TIFF has no readable first page: its directory lies outside the file (truncated?)');
  /** One page's directory (its tags' values), and where the next page's is (0: none). */
  const readDirectory = (ifdOffset: number): { ifd: Ifd; next: number } => {
    const count = big ? u64(ifdOffset) : u16(ifdOffset);
    const end = ifdOffset + countBytes + count * entryBytes;
    if (end > bytes.length) fail('the TIFF directory is truncated');
    const ifd: Ifd = { values: new Map() };
    for (let k = 0; k < count; k++) {
      const e = ifdOffset + countBytes + k * entryBytes;
      const tag = u16(e);
      const type = u16(e + 2);
      const n = offset(e + 4);
      const size = TYPE_SIZE[type];
      if (!size || n === 0) continue;
      if (n > 1_000_000) fail(`TIFF tag ${tag} declares ${n} values`);
      const total = size * n;
      const valueAt = e + 4 + inlineBytes;
      const at = total <= inlineBytes ? valueAt : offset(valueAt);
      if (at + total > bytes.length) fail(`TIFF tag ${tag} points outside the file`);
      const vals: number[] = [];
      for (let j = 0; j < n; j++) {
        const p = at + j * size;
        if (type === 3 || type === 8) vals.push(u16(p));
        else if (type === 4 || type === 9 || type === 13) vals.push(u32(p));
        else if (type === 16 || type === 17 || type === 18) vals.push(u64(p));
        else if (type === 5 || type === 10) {
          const den = u32(p + 4);
          vals.push(den === 0 ? Number.NaN : u32(p) / den);
        } else vals.push(bytes[p] ?? fail(`TIFF tag ${tag} points outside the file`));
      }
      ifd.values.set(tag, vals);
    }
    // A damaged pointer to the next page ends the chain: the pages before it are whole.
    const next = end + inlineBytes <= bytes.length ? offset(end) : 0;
    return { ifd, next: next >= 8 && next + countBytes <= bytes.length ? next : 0 };
  };
  const pages = tiffPages(firstOffset, readDirectory);
  const page = (firstPage ? undefined : pages.find((d) => !reducedResolution(d))) ?? pages[0];
  if (!page) return fail('the TIFF has no readable first page');
  const ifd = page;
  const pageShown =
    pages.length > 1
      ? `page ${pages.indexOf(page) + 1} of the ${pages.length} in the file${page === pages[0] ? '' : ' (the first at full resolution; those before it are reduced-resolution copies)'}`
      : null;
  const one = (tag: number, fallback?: number): number => {
    const v = ifd.values.get(tag)?.[0];
    if (v !== undefined) return v;
    if (fallback !== undefined) return fallback;
    return fail(`the TIFF lacks tag ${tag}`);
  };
  const width = one(TAG.width);
  const height = one(TAG.height);
  if (!(width > 0 && height > 0)) fail(`the TIFF declares an empty image (${width}x${height})`);
  if (width * height > TIFF_MAX_PIXELS) {
    fail(
      `the TIFF declares ${width}x${height} pixels (${((width * height) / 1e6).toFixed(0)} megapixels); at most ${TIFF_MAX_PIXELS / 1e6} megapixels are opened`,
      'unsupported',
    );
  }
  const samples = one(TAG.samplesPerPixel, 1);
  const bits = ifd.values.get(TAG.bitsPerSample) ?? [1];
  const bitsPerSample = bits[0] ?? fail('the TIFF BitsPerSample tag has no value');
  // The limits every decoder shares (main/dicom/limits.ts): per side and decoded bytes, beyond the pixel count above.
  checkImageSize(fileName, width, height, 'the TIFF header', Math.max(1, samples), Math.ceil(bitsPerSample / 8));
  const photometric = one(TAG.photometric, 1);
  const compression = one(TAG.compression, 1);
  const predictor = one(TAG.predictor, 1);
  const sampleFormat = one(TAG.sampleFormat, 1);
  const planar = one(TAG.planarConfig, 1);
  const jpeg = compression === 7;
  // Palette (3): 8-bit indexes into ColorMap, shown as the luma of each entry (a grey palette: its grey).
  const palette = photometric === 3 && samples === 1 && bitsPerSample === 8 && !jpeg;
  const grey = ((photometric === 0 || photometric === 1) && samples === 1) || palette;
  const rgb = photometric === 2 && (samples === 3 || samples === 4) && bitsPerSample === 8 && planar === 1;
  // YCbCr only inside JPEG strips, whose decoder takes the luma; uncompressed YCbCr is not read.
  const ycbcr = jpeg && photometric === 6 && samples === 3;
  if (!grey && !rgb && !ycbcr)
    fail(
      `TIFF with photometric interpretation ${photometric}, ${samples} samples per pixel and ${bitsPerSample} bits is not supported (grey, 8-bit palette or RGB, or YCbCr in JPEG strips)`,
      'unsupported',
    );
  // 32-bit grey: floating point (what ImageJ and image-processing tools save) or integers, scaled to 16 bits.
  const wide = bitsPerSample === 32 && grey && !jpeg;
  if (bitsPerSample !== 8 && bitsPerSample !== 16 && !wide)
    fail(`TIFF with ${bitsPerSample} bits per sample is not supported (8 or 16, or 32 for grey)`, 'unsupported');
  if (!(sampleFormat === 1 || (wide && (sampleFormat === 2 || sampleFormat === 3))))
    fail(
      `TIFF sample format ${sampleFormat} is not supported with ${bitsPerSample} bits (unsigned integers; 32-bit grey may be signed or floating point)`,
      'unsupported',
    );
  if (wide && predictor !== 1)
    fail(`TIFF with 32-bit samples and predictor ${predictor} is not supported (no predictor)`, 'unsupported');
  if (compression === 6)
    fail(
      'TIFF with old-style JPEG (compression 6) is not supported: save it again with JPEG (7) or LZW',
      'unsupported',
    );
  if (![1, 5, 7, 8, 32946, 32773].includes(compression))
    fail(`TIFF compression ${compression} is not supported (none, LZW, Deflate, PackBits or JPEG)`, 'unsupported');
  if (jpeg && bitsPerSample !== 8)
    fail(`TIFF JPEG with ${bitsPerSample} bits per sample is not supported (8)`, 'unsupported');
  if (predictor !== 1 && predictor !== 2) fail(`TIFF predictor ${predictor} is not supported`, 'unsupported');
  const pixelCount = width * height;
  // Stored value = modality.slope x pixel + modality.intercept; only 32-bit samples are scaled (to their range).
  let modality = { slope: 1, intercept: 0 };
  const blocks = blocksOf(ifd, width, height, fail);
  const blockAt = (b: Block): Uint8Array => {
    if (b.offset + b.byteCount > bytes.length) fail(`TIFF ${b.name} lies outside the file (truncated?)`);
    return bytes.subarray(b.offset, b.offset + b.byteCount);
  };
  const data = jpeg
    ? await jpegBlocksToGrey(fileName, {
        width,
        height,
        blocks,
        blockAt,
        tables: ifd.values.get(TAG.jpegTables) ?? null,
        photometric,
        fail,
      })
    : rawBlocksToGrey();
  /** Each strip or tile decompressed, its predictor undone along its own rows, its pixels put in place. */
  function rawBlocksToGrey(): Uint16Array {
    const bytesPerPixel = (bitsPerSample / 8) * samples;
    const rowBytes = width * bytesPerPixel;
    const raw = new Uint8Array(rowBytes * height);
    for (const b of blocks) {
      const blockRowBytes = b.storedWidth * bytesPerPixel;
      const expected = b.storedRows * blockRowBytes;
      const src = blockAt(b);
      let block: Uint8Array;
      try {
        if (compression === 1) block = src;
        else if (compression === 5) block = lzwDecode(src, expected);
        else if (compression === 32773) block = unpackBits(src, expected);
        else block = new Uint8Array(inflateSync(src, { maxOutputLength: Math.max(expected, 1) + 1024 }));
      } catch (error) {
        return fail(
          `TIFF ${b.name} cannot be decompressed (${error instanceof Error ? error.message : String(error)})`,
        );
      }
      if (block.length < expected) fail(`TIFF ${b.name} holds ${block.length} bytes, ${expected} expected (truncated)`);
      if (predictor === 2) {
        // Decompressed data may be the file's own bytes (uncompressed): undo the predictor on a copy.
        block = compression === 1 ? block.slice(0, expected) : block;
        undoHorizontalPredictor(block, b.storedRows, b.storedWidth, samples, bitsPerSample, little);
      }
      for (let r = 0; r < b.rows; r++) {
        const from = r * blockRowBytes;
        raw.set(block.subarray(from, from + b.columns * bytesPerPixel), (b.y0 + r) * rowBytes + b.x0 * bytesPerPixel);
      }
    }
    const out = new Uint16Array(pixelCount);
    const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    /* eslint-disable @typescript-eslint/no-non-null-assertion --
       out holds pixelCount = width x height values and raw rowBytes x height bytes (allocated above) */
    if (wide) modality = scaleWideSamples(rv, pixelCount, sampleFormat, little, out);
    else if (bitsPerSample === 16) for (let i = 0; i < pixelCount; i++) out[i] = rv.getUint16(i * 2, little);
    else if (palette) {
      const lut = paletteLuma(ifd.values.get(TAG.colorMap) ?? fail('the palette TIFF has no ColorMap'), fail);
      for (let i = 0; i < pixelCount; i++) out[i] = lut[raw[i]!]!;
    } else if (grey) for (let i = 0; i < pixelCount; i++) out[i] = raw[i]! * 257;
    else
      for (let i = 0, s = 0; i < pixelCount; i++, s += samples)
        out[i] = Math.round((0.299 * raw[s]! + 0.587 * raw[s + 1]! + 0.114 * raw[s + 2]!) * 257);
    /* eslint-enable @typescript-eslint/no-non-null-assertion */
    return out;
  }
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- data holds pixelCount values */
  if (photometric === 0) for (let i = 0; i < pixelCount; i++) data[i] = 65535 - data[i]!;
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  const xRes = ifd.values.get(TAG.xResolution)?.[0] ?? null;
  const yRes = ifd.values.get(TAG.yResolution)?.[0] ?? null;
  const stored = tiffSpacing(xRes, yRes, one(TAG.resolutionUnit, 2));
  // Turned as the Orientation tag says, as viewers show the file; a quarter turn swaps the row and column spacings.
  const tag = one(TAG.orientation, 1);
  const turn = ignoreOrientationTag ? null : orientationOfTag(tag);
  const quarter = turn !== null && (turn.rotate === 90 || turn.rotate === 270);
  const spacing = stored && quarter ? { ...stored, rowMm: stored.colMm, colMm: stored.rowMm } : stored;
  const shown = turn ? orientPixels(data, width, height, turn) : data;
  const size = turn ? uprightSize(width, height, turn) : { w: width, h: height };
  // 16-bit files often use only part of the range (e.g. 12-bit data): the default window is the data's range.
  let min = 65535;
  let max = 0;
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- data holds pixelCount values */
  for (let i = 0; i < pixelCount; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  const dataRange = { name: 'Data range', center: (min + max + 1) / 2, width: Math.max(1, max - min + 1) };
  const windows =
    bitsPerSample > 8
      ? [dataRange, automaticWindow(shown, size.w, size.h), { ...FULL_RANGE_WINDOW, name: 'As stored' }]
      : [{ ...FULL_RANGE_WINDOW, name: 'As stored' }, automaticWindow(shown, size.w, size.h)];
  return {
    info: {
      fileName,
      format: 'tiff',
      width: size.w,
      height: size.h,
      frames: 1,
      spacing,
      bitsStored: bitsPerSample,
      photometric: palette
        ? 'PALETTE COLOR'
        : grey
          ? photometric === 0
            ? 'MONOCHROME1'
            : 'MONOCHROME2'
          : ycbcr
            ? 'YBR_FULL'
            : 'RGB',
      invertedFromMonochrome1: photometric === 0,
      transferSyntax: null,
      meta: EMPTY_META,
      ...(pageShown ? { pageShown } : {}),
      ...(turn ? { turnedByTag: `${describeTagTurn(turn)} as its Orientation tag (${tag}) says` } : {}),
    },
    pixels: {
      width: size.w,
      height: size.h,
      data: shown,
      modalitySlope: modality.slope,
      modalityIntercept: modality.intercept,
      windows,
    },
  };
}

/** A JPEG-compressed TIFF's strips or tiles, as jpegBlocksToGrey reads them. */
interface JpegBlocks {
  readonly width: number;
  readonly height: number;
  readonly blocks: readonly Block[];
  readonly blockAt: (b: Block) => Uint8Array;
  /** JPEGTables (347): an abbreviated JPEG stream (SOI, quantisation and Huffman tables, EOI) the blocks share. */
  readonly tables: readonly number[] | null;
  readonly photometric: number;
  readonly fail: (problem: string) => never;
}

// APP0 JFIF 1.01 and APP14 Adobe with transform 0: how a JPEG stream says its three components are YCbCr, or RGB
// as they are. A TIFF says it with its photometric interpretation instead, and its strips carry neither marker.
const JFIF_APP0 = [0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
const ADOBE_APP14_RGB = [0xff, 0xee, 0, 14, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, 0];

/**
 * The grey (v * 257) of a TIFF whose strips or tiles are JPEG streams (compression 7, TIFF Technical Note 2): each
 * made a whole JPEG stream (its SOI, the marker that says what its components are, the shared tables, the rest of
 * the block) and decoded as a JPEG file is; YCbCr gives its luma, RGB the luma of its colours.
 */
async function jpegBlocksToGrey(fileName: string, tiff: JpegBlocks): Promise<Uint16Array> {
  const { width, height, tables, fail } = tiff;
  const isStream = (b: ArrayLike<number>): boolean => b.length >= 4 && b[0] === 0xff && b[1] === 0xd8;
  if (tables && !isStream(tables)) fail('the TIFF JPEGTables tag does not hold a JPEG stream');
  // The tables' segments, without their SOI and EOI.
  const endsWithEoi = tables !== null && tables.at(-2) === 0xff && tables.at(-1) === 0xd9;
  const shared = tables ? Uint8Array.from(tables).subarray(2, endsWithEoi ? -2 : undefined) : null;
  const colourMarker = tiff.photometric === 6 ? JFIF_APP0 : tiff.photometric === 2 ? ADOBE_APP14_RGB : [];
  const out = new Uint16Array(width * height);
  for (const b of tiff.blocks) {
    const block = tiff.blockAt(b);
    if (!isStream(block)) fail(`TIFF ${b.name} is not a JPEG stream`);
    const rest = block.subarray(2);
    const stream = new Uint8Array(2 + colourMarker.length + (shared?.length ?? 0) + rest.length);
    stream.set([0xff, 0xd8]);
    stream.set(colourMarker, 2);
    if (shared) stream.set(shared, 2 + colourMarker.length);
    stream.set(rest, stream.length - rest.length);
    let decoded: OpenedImage;
    try {
      decoded = await decodeJpegFile(fileName, stream, true);
    } catch (error) {
      return fail(
        `TIFF ${b.name} cannot be decoded (${error instanceof ImageDecodeError ? error.problem : String(error)})`,
      );
    }
    const { pixels } = decoded;
    if (pixels.width < b.columns || pixels.height < b.rows)
      fail(`TIFF ${b.name} decodes to ${pixels.width}x${pixels.height} pixels, ${b.columns}x${b.rows} expected`);
    for (let r = 0; r < b.rows; r++)
      out.set(pixels.data.subarray(r * pixels.width, r * pixels.width + b.columns), (b.y0 + r) * width + b.x0);
  }
  return out;
}

/**
 * One strip or tile: where its bytes are, where its pixels go (columns x rows from x0, y0) and how many it stores
 * per row and in all (a tile at the right or bottom edge stores a whole tile, padded).
 */
interface Block {
  readonly name: string;
  readonly offset: number;
  readonly byteCount: number;
  readonly x0: number;
  readonly y0: number;
  readonly columns: number;
  readonly rows: number;
  readonly storedWidth: number;
  readonly storedRows: number;
}

/** Most pages read from one file: a scan holds a few; more, or a chain that loops, is not followed further. */
const MAX_PAGES = 64;

/** The directories of the file's pages in order, from the first, as far as they can be read (MAX_PAGES at most). */
function tiffPages(first: number, readDirectory: (at: number) => { ifd: Ifd; next: number }): Ifd[] {
  const pages: Ifd[] = [];
  const seen = new Set<number>();
  for (let at = first; at !== 0 && !seen.has(at) && pages.length < MAX_PAGES;) {
    seen.add(at);
    let page: { ifd: Ifd; next: number };
    try {
      page = readDirectory(at);
    } catch (error) {
      if (pages.length === 0) throw error; // the first page must be readable; a later damaged one is left out
      break;
    }
    pages.push(page.ifd);
    at = page.next;
  }
  return pages;
}

/** NewSubfileType (254) bit 0: a reduced-resolution copy of another page (a preview, a thumbnail). */
function reducedResolution(ifd: Ifd): boolean {
  return ((ifd.values.get(254)?.[0] ?? 0) & 1) === 1;
}

/** Largest tile accepted beyond the image's own size (a small image in the usual 256 or 512 px tiles). */
const MAX_TILE_PIXELS = 1024 * 1024;

/** The strips (StripOffsets, RowsPerStrip) or the tiles (TileOffsets, TileWidth, TileLength) of the page. */
function blocksOf(ifd: Ifd, width: number, height: number, fail: (problem: string) => never): Block[] {
  const tiled = ifd.values.has(TAG.tileWidth) || ifd.values.has(TAG.tileOffsets);
  const kind = tiled ? 'tile' : 'strip';
  const offsets = ifd.values.get(tiled ? TAG.tileOffsets : TAG.stripOffsets) ?? fail(`the TIFF has no ${kind} offsets`);
  const counts =
    ifd.values.get(tiled ? TAG.tileByteCounts : TAG.stripByteCounts) ?? fail(`the TIFF has no ${kind} byte counts`);
  if (offsets.length !== counts.length) fail(`the TIFF ${kind} offsets and byte counts differ in number`);
  const blockWidth = tiled ? (ifd.values.get(TAG.tileWidth)?.[0] ?? 0) : width;
  const blockRows = tiled
    ? (ifd.values.get(TAG.tileLength)?.[0] ?? 0)
    : Math.min(ifd.values.get(TAG.rowsPerStrip)?.[0] ?? height, height);
  if (!(blockWidth > 0 && blockRows > 0)) fail(`the TIFF declares ${kind}s of ${blockWidth}x${blockRows} pixels`);
  // A tile is decompressed whole before its part of the image is kept: one far larger than the image (a damaged or
  // hostile header) would allocate that much first.
  if (tiled && blockWidth * blockRows > Math.max(width * height, MAX_TILE_PIXELS))
    fail(`the TIFF declares tiles of ${blockWidth}x${blockRows} pixels for a ${width}x${height} image`);
  const across = Math.ceil(width / blockWidth);
  const down = Math.ceil(height / blockRows);
  if (offsets.length < across * down)
    fail(`the TIFF has ${offsets.length} ${kind}s, ${across * down} needed for ${width}x${height} pixels (truncated)`);
  const blocks: Block[] = [];
  for (let i = 0; i < across * down; i++) {
    const x0 = (i % across) * blockWidth;
    const y0 = Math.floor(i / across) * blockRows;
    const rows = Math.min(blockRows, height - y0);
    blocks.push({
      name: `${kind} ${i}`,
      offset: offsets[i] ?? 0,
      byteCount: counts[i] ?? 0,
      x0,
      y0,
      columns: Math.min(blockWidth, width - x0),
      rows,
      storedWidth: blockWidth,
      // A strip stores its own rows (the last one fewer); a tile always a whole tile.
      storedRows: tiled ? blockRows : rows,
    });
  }
  return blocks;
}

/** TIFF's horizontal differencing (Predictor 2) undone in place, along each stored row of one strip or tile. */
function undoHorizontalPredictor(
  block: Uint8Array,
  rows: number,
  columns: number,
  samples: number,
  bitsPerSample: number,
  little: boolean,
): void {
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- block holds rows x columns x samples samples */
  if (bitsPerSample === 16) {
    const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
    const rowBytes = columns * samples * 2;
    for (let y = 0; y < rows; y++)
      for (let x = samples; x < columns * samples; x++) {
        const at = y * rowBytes + x * 2;
        view.setUint16(at, (view.getUint16(at, little) + view.getUint16(at - samples * 2, little)) & 0xffff, little);
      }
  } else {
    const rowBytes = columns * samples;
    for (let y = 0; y < rows; y++)
      for (let x = samples; x < rowBytes; x++)
        block[y * rowBytes + x] = (block[y * rowBytes + x]! + block[y * rowBytes + x - samples]!) & 0xff;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
}

/**
 * 32-bit grey samples (IEEE float, signed or unsigned integers) scaled linearly from their finite range to 0..65535
 * into `out`; returns the slope and intercept that give the stored values back. Samples that are not finite (NaN,
 * infinity) take the lowest value.
 */
function scaleWideSamples(
  raw: DataView,
  count: number,
  sampleFormat: number,
  little: boolean,
  out: Uint16Array,
): { slope: number; intercept: number } {
  const read =
    sampleFormat === 3
      ? (i: number) => raw.getFloat32(i * 4, little)
      : sampleFormat === 2
        ? (i: number) => raw.getInt32(i * 4, little)
        : (i: number) => raw.getUint32(i * 4, little);
  const values = new Float64Array(count);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const v = read(i);
    values[i] = v;
    if (Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (!Number.isFinite(min)) return { slope: 1, intercept: 0 }; // no finite sample: all zero
  const slope = max > min ? (max - min) / 65535 : 1;
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- values holds count samples */
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    out[i] = Number.isFinite(v) ? Math.round((v - min) / slope) : 0;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return { slope, intercept: min };
}

/** The 16-bit luma of each of the 256 entries of an 8-bit palette's ColorMap (all reds, then greens, then blues). */
function paletteLuma(colorMap: readonly number[], fail: (problem: string) => never): Uint16Array {
  if (colorMap.length !== 3 * 256) fail(`the TIFF ColorMap holds ${colorMap.length} values, 768 expected for 8 bits`);
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- colorMap holds 768 values, checked above */
  return Uint16Array.from({ length: 256 }, (_, i) =>
    Math.round(0.299 * colorMap[i]! + 0.587 * colorMap[256 + i]! + 0.114 * colorMap[512 + i]!),
  );
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
}
