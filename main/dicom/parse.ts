/** Bytes -> dicom-parser DataSet, for Part 10 files and bare data sets (no preamble or meta header). */
import { createRequire } from 'node:module';
import { modulePath } from '../workers/entry';
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { ImageDecodeError } from './errors';
import { MAX_INFLATED_BYTES } from './limits';

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';

const VRS = new Set([
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FL',
  'FD',
  'IS',
  'LO',
  'LT',
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'PN',
  'SH',
  'SL',
  'SQ',
  'SS',
  'ST',
  'SV',
  'TM',
  'UC',
  'UI',
  'UL',
  'UN',
  'UR',
  'US',
  'UT',
  'UV',
]);

export interface ParsedDicom {
  readonly dataSet: DataSet;
  readonly transferSyntaxUid: string;
  /** How the file was laid out, when not a standard Part 10 file. */
  readonly layoutNote: string | null;
}

function hasPart10Prefix(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d
  );
}

/**
 * For a data set without meta header: guess its encoding from the first element. Returns null when the
 * start does not look like a DICOM element at all.
 */
export function guessBareSyntax(bytes: Uint8Array): string | null {
  if (bytes.length < 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const groupLe = view.getUint16(0, true);
  const groupBe = view.getUint16(0, false);
  const vr = String.fromCharCode(view.getUint8(4), view.getUint8(5));
  // Data sets start with a low group: 0002..0028, or a private group just above an even one.
  const plausibleGroup = (g: number) => g >= 0x0001 && g <= 0x0028;
  if (plausibleGroup(groupLe)) return VRS.has(vr) ? EXPLICIT_LE : IMPLICIT_LE;
  if (plausibleGroup(groupBe) && VRS.has(vr)) return EXPLICIT_BE;
  return null;
}

/** A meta header written without the 128-byte preamble and "DICM": starts with a (0002,xxxx) explicit element. */
function isMetaWithoutPreamble(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 && bytes[0] === 0x02 && bytes[1] === 0x00 && VRS.has(String.fromCharCode(...bytes.subarray(4, 6)))
  );
}

function withPreamble(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(bytes.length + 132);
  out.write('DICM', 128, 'latin1');
  out.set(bytes, 132);
  return out;
}

/**
 * node:zlib, loaded with the first deflated data set (dicom-parser's inflater is synchronous, so not by import()):
 * loading it (and the streams it builds on) costs a start-up that reads only native or compressed files.
 */
let zlib: typeof import('node:zlib') | null = null;
function inflateRawSync(...args: Parameters<typeof import('node:zlib').inflateRawSync>): Buffer {
  zlib ??= createRequire(modulePath(import.meta.url))('node:zlib') as typeof import('node:zlib');
  return zlib.inflateRawSync(...args);
}

function inflater(byteArray: Uint8Array, position: number): Buffer {
  let inflated: Buffer;
  try {
    // With an output limit: a 1 MB deflated data set that inflates to gigabytes is refused, not allocated.
    inflated = inflateRawSync(byteArray.subarray(position), {
      maxOutputLength: MAX_INFLATED_BYTES,
      chunkSize: 1 << 20,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(
        `the deflated data set inflates to more than ${MAX_INFLATED_BYTES / 1024 / 1024} MB, the limit (a decompression bomb?)`,
      );
    }
    throw error;
  }
  const full = Buffer.alloc(position + inflated.length);
  full.set(byteArray.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

function describeParserError(error: unknown): string {
  const inner =
    typeof error === 'object' && error !== null && 'exception' in error
      ? (error as { exception: unknown }).exception
      : error;
  const text = inner instanceof Error ? inner.message : String(inner);
  return text.replace(/^dicomParser\.\w+: /, '');
}

export function parseDicomBytes(fileName: string, bytes: Uint8Array): ParsedDicom {
  let buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let layoutNote: string | null = null;
  let bareSyntax: string | null = null;
  if (!hasPart10Prefix(buffer)) {
    if (isMetaWithoutPreamble(buffer)) {
      buffer = withPreamble(buffer);
      layoutNote = 'meta header without the 128-byte preamble';
    } else {
      bareSyntax = guessBareSyntax(buffer);
      if (!bareSyntax)
        throw new ImageDecodeError(
          'corrupt-file',
          fileName,
          'not a DICOM file (no "DICM" marker and no recognisable DICOM data set), nor a PNG, JPEG or TIFF image',
        );
      layoutNote = 'no Part 10 preamble or meta header; encoding guessed from the first element';
    }
  }
  if (bareSyntax)
    return { dataSet: parseWith(fileName, buffer, bareSyntax), transferSyntaxUid: bareSyntax, layoutNote };

  let meta: DataSet;
  try {
    meta = dicomParser.readPart10Header(buffer) as DataSet & { position?: number };
  } catch (error) {
    throw new ImageDecodeError(
      'corrupt-file',
      fileName,
      `the DICOM meta header cannot be read (${describeParserError(error)})`,
    );
  }
  const syntaxElement = meta.elements.x00020010;
  if (!syntaxElement) {
    // A meta header without Transfer Syntax UID: read the data set after it as a bare data set.
    const groupLength = meta.elements.x00020000 ? meta.uint32('x00020000') : undefined;
    const position =
      groupLength !== undefined ? 132 + 12 + groupLength : ((meta as DataSet & { position?: number }).position ?? 132);
    const rest = buffer.subarray(position);
    const guessed = guessBareSyntax(rest);
    if (!guessed)
      throw new ImageDecodeError(
        'corrupt-file',
        fileName,
        'the meta header has no Transfer Syntax UID (0002,0010) and the data set after it is unreadable',
      );
    return {
      dataSet: parseWith(fileName, rest, guessed),
      transferSyntaxUid: guessed,
      layoutNote: 'meta header without Transfer Syntax UID; encoding guessed from the first element',
    };
  }
  const uid = (meta.string('x00020010') ?? '').trim();
  return { dataSet: parseWith(fileName, buffer, undefined), transferSyntaxUid: uid, layoutNote };
}

function parseWith(fileName: string, buffer: Buffer, bareSyntax: string | undefined): DataSet {
  try {
    const options = bareSyntax ? { TransferSyntaxUID: bareSyntax, inflater } : { inflater };
    return dicomParser.parseDicom(buffer, options as Parameters<typeof dicomParser.parseDicom>[1]);
  } catch (error) {
    const problem = describeParserError(error);
    const partial = typeof error === 'object' && error !== null && 'dataSet' in error;
    if (/buffer overread|exceeds|beyond|truncat/i.test(problem) || partial) {
      throw new ImageDecodeError(
        'corrupt-file',
        fileName,
        `the file is truncated or damaged: DICOM parsing stopped (${problem})`,
      );
    }
    throw new ImageDecodeError('corrupt-file', fileName, `the DICOM data cannot be parsed (${problem})`);
  }
}

/**
 * Elements of an explicit-VR data set whose VR is not a DICOM VR: the bytes are damaged, and the values of
 * the elements after them may be misread. Returned as one warning (or none).
 */
export function invalidVrWarning(dataSet: DataSet, transferSyntaxUid: string): string[] {
  if (transferSyntaxUid === IMPLICIT_LE) return [];
  const bad: string[] = [];
  for (const [tag, element] of Object.entries(dataSet.elements)) {
    if (element.vr !== undefined && !VRS.has(element.vr))
      bad.push(`(${tag.slice(1, 5)},${tag.slice(5)}) "${element.vr.replace(/[^\x20-\x7e]/g, '?')}"`);
  }
  if (bad.length === 0) return [];
  return [
    `the file is damaged: ${bad.length} element(s) have an invalid value representation (${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', ...' : ''}); values read after them may be wrong`,
  ];
}
