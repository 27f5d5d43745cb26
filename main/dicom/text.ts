/** Text attributes decoded with the file's Specific Character Set (0008,0005). */
import type { DataSet } from 'dicom-parser';

/** DICOM defined terms -> WHATWG encoding labels (Node's TextDecoder, full ICU). */
const CHARSETS: Record<string, string> = {
  'ISO_IR 6': 'windows-1252',
  'ISO 2022 IR 6': 'windows-1252',
  'ISO_IR 100': 'iso-8859-1',
  'ISO 2022 IR 100': 'iso-8859-1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO 2022 IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO 2022 IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO 2022 IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO 2022 IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO 2022 IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO 2022 IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO 2022 IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO 2022 IR 148': 'iso-8859-9',
  'ISO_IR 203': 'iso-8859-15',
  'ISO 2022 IR 203': 'iso-8859-15',
  'ISO_IR 166': 'windows-874',
  'ISO 2022 IR 166': 'windows-874',
  'ISO_IR 13': 'shift_jis',
  'ISO 2022 IR 13': 'shift_jis',
  'ISO 2022 IR 87': 'iso-2022-jp',
  'ISO 2022 IR 159': 'iso-2022-jp',
  'ISO 2022 IR 149': 'euc-kr',
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

export interface TextReader {
  /** The character set actually used, e.g. "ISO_IR 192 (utf-8)". */
  readonly charsetNote: string;
  /** A text attribute decoded and trimmed; null when absent or empty. */
  text(tag: string): string | null;
}

/** Picks one decoder for the data set: for multi-valued ISO 2022 sets, the first one Node can decode as a whole. */
function chooseEncoding(terms: string[]): { label: string; note: string; unknown: string[] } {
  const unknown = terms.filter((t) => t !== '' && !(t in CHARSETS));
  const japanese = terms.find((t) => t === 'ISO 2022 IR 87' || t === 'ISO 2022 IR 159');
  const korean = terms.find((t) => t === 'ISO 2022 IR 149');
  const chosen = japanese ?? korean ?? terms.find((t) => t in CHARSETS) ?? '';
  const label = CHARSETS[chosen] ?? 'windows-1252';
  return { label, note: chosen ? `${terms.join('\\')} (decoded as ${label})` : 'default repertoire', unknown };
}

/** Removes ESC $ ) C (designate KS X 1001 to G1), leaving the EUC-KR bytes. */
function withoutKoreanDesignation(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x1b && bytes[i + 1] === 0x24 && bytes[i + 2] === 0x29 && bytes[i + 3] === 0x43) {
      i += 3;
      continue;
    }
    if (b !== undefined) out.push(b);
  }
  return Uint8Array.from(out);
}

export function textReader(dataSet: DataSet): TextReader {
  const raw = dataSet.string('x00080005');
  const terms = (raw ?? '').split('\\').map((t) => t.trim());
  const { label, note, unknown } = chooseEncoding(terms);
  const decoder = new TextDecoder(label);
  // ISO 2022 escape sequences for the Korean set are stripped before EUC-KR decoding.
  const stripEscapes = label === 'euc-kr';
  return {
    charsetNote: unknown.length > 0 ? `${note}; unknown terms ignored: ${unknown.join(', ')}` : note,
    text(tag) {
      const element = dataSet.elements[tag];
      if (!element || element.length <= 0 || element.dataOffset === undefined) return null;
      let bytes: Uint8Array = dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
      if (stripEscapes) bytes = withoutKoreanDesignation(bytes);
      const value = decoder.decode(bytes).replace(/\0+$/, '').trim();
      return value === '' ? null : value;
    },
  };
}

/**
 * DICOM person name ("Family^Given^Middle^Prefix^Suffix", groups "alphabetic=ideographic=phonetic")
 * shown as "Family, Given Middle" (prefix and suffix around it); the ideographic form follows in
 * parentheses when both are present.
 */
export function readablePersonName(value: string): string {
  const groups = value.split('=').map((group) => {
    const [family = '', given = '', middle = '', prefix = '', suffix = ''] = group.split('^').map((p) => p.trim());
    const forenames = [given, middle].filter(Boolean).join(' ');
    const core = [family, forenames].filter(Boolean).join(', ');
    return [prefix, core, suffix].filter(Boolean).join(' ').trim();
  });
  const [alphabetic = '', ideographic = ''] = groups;
  if (alphabetic && ideographic) return `${alphabetic} (${ideographic})`;
  return alphabetic || ideographic || groups.find(Boolean) || '';
}
