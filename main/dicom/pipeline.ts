/**
 * Stored values -> ImagePixels: modality LUT or rescale, MONOCHROME1 inversion, mapping onto 0..65535,
 * and the file's VOI presets converted into data units.
 */
import type { DataSet } from 'dicom-parser';
import type { ImagePixels, WindowPreset } from '../../core/api/image';
import { ImageDecodeError } from './errors';
import type { FrameStatistics, StoredFrame } from './pixels';
import { automaticWindow, automaticWindowOfCounts, automaticWindowOfStored } from './windows';

interface Lut {
  readonly firstMapped: number;
  readonly data: Uint16Array;
  readonly bits: number;
  readonly explanation: string | null;
}

/** Reads the first item of a LUT sequence (Modality LUT 0028,3000 or VOI LUT 0028,3010). */
function readLut(
  fileName: string,
  dataSet: DataSet,
  sequenceTag: string,
  signedInput: boolean,
  which: string,
): Lut | null {
  const item = dataSet.elements[sequenceTag]?.items?.[0]?.dataSet;
  if (!item) return null;
  const descriptor = item.elements.x00283002;
  const lutData = item.elements.x00283006;
  if (!descriptor || !lutData)
    throw new ImageDecodeError('corrupt-file', fileName, `the ${which} has no LUT Descriptor or LUT Data`);
  const entriesRaw = item.uint16('x00283002', 0) ?? 0;
  const entries = entriesRaw === 0 ? 65536 : entriesRaw;
  const firstRaw = item.uint16('x00283002', 1) ?? 0;
  const firstMapped = signedInput && firstRaw >= 0x8000 ? firstRaw - 0x10000 : firstRaw;
  const bits = item.uint16('x00283002', 2) ?? 16;
  const data = new Uint16Array(entries);
  if (bits <= 8 && lutData.length === entries) {
    /* eslint-disable @typescript-eslint/no-non-null-assertion --
       lutData.length === entries, and dicom-parser keeps an element's data inside its byte array */
    for (let i = 0; i < entries; i++) data[i] = item.byteArray[lutData.dataOffset + i]!;
    /* eslint-enable @typescript-eslint/no-non-null-assertion */
  } else {
    if (lutData.length < entries * 2)
      throw new ImageDecodeError(
        'corrupt-file',
        fileName,
        `the ${which} declares ${entries} entries but its data holds ${lutData.length} bytes`,
      );
    for (let i = 0; i < entries; i++) data[i] = item.uint16('x00283006', i) ?? 0;
  }
  return { firstMapped, data, bits, explanation: item.string('x00283003')?.trim() || null };
}

const MAX_RESCALE_SLOPE = 1e6;
/** The largest stored-value range whose display values are tabulated instead of mapped per pixel (4 MB). */
const MAX_TABLE_ENTRIES = 1 << 21;
const MAX_RESCALE_INTERCEPT = 1e9;

/** The stored values of a decoded frame; a frame's statistics (`cvm info`) are only taken where none are needed. */
function valuesOf(frame: StoredFrame | FrameStatistics): StoredFrame['values'] {
  if (frame.values === null)
    throw new Error('buildPixels: the frame was counted, not decoded, but its values are needed');
  return frame.values;
}

function displayed(data: Uint16Array | null): Uint16Array {
  if (data === null) throw new Error('buildPixels: no automatic window and no display pixels to find one in');
  return data;
}

function lookup(lut: Lut, v: number): number {
  const index = v - lut.firstMapped;
  const last = lut.data.length - 1;
  const value = lut.data[index < 0 ? 0 : index > last ? last : index];
  if (value === undefined) throw new Error('lookup: the LUT has no entries');
  return value;
}

function numbers(dataSet: DataSet, tag: string): number[] {
  const raw = dataSet.string(tag);
  if (!raw) return [];
  return raw.split('\\').map((v) => Number(v.trim()));
}

export interface PipelineResult {
  /** `data` is null only when it was not asked for and the window could be found without it. */
  readonly pixels: Omit<ImagePixels, 'data'> & { readonly data: Uint16Array | null };
  readonly modalityTransform: string;
  readonly voiLutApplied: boolean;
  /** The file has a VOI LUT Sequence but also window presets, which were used instead. */
  readonly voiLutIgnored: boolean;
  readonly warnings: readonly string[];
}

/**
 * modality -> data: data = (m - mMin) * 65535 / (mMax - mMin), inverted for MONOCHROME1, where
 * mMin..mMax is the frame's actual range (the most grey levels for display).
 * With `withData` false (`cvm info`: windows and mapping, no pixels) a linear mapping of whole-number stored
 * values makes no display pixels: the automatic window comes from a table of the display value of each stored
 * value in the frame's range, the very values the pixels would hold.
 */
export function buildPixels(
  fileName: string,
  dataSet: DataSet,
  frame: StoredFrame | FrameStatistics,
  width: number,
  height: number,
  signed: boolean,
  monochrome1: boolean,
  withData = true,
): PipelineResult {
  const warnings: string[] = [];
  const count = width * height;
  const modalityLut = readLut(fileName, dataSet, 'x00283000', signed, 'Modality LUT Sequence');
  let modality: Int32Array | null = null;
  let slope = 1;
  let intercept = 0;
  let modalityTransform = 'none';
  if (modalityLut) {
    modality = new Int32Array(count);
    const stored = valuesOf(frame);
    /* eslint-disable @typescript-eslint/no-non-null-assertion --
       stored and modality hold count = rows x columns values */
    for (let i = 0; i < count; i++) modality[i] = lookup(modalityLut, stored[i]!);
    /* eslint-enable @typescript-eslint/no-non-null-assertion */
    modalityTransform = `Modality LUT (${modalityLut.data.length} entries${modalityLut.explanation ? `, ${modalityLut.explanation}` : ''})`;
  } else {
    const [s] = numbers(dataSet, 'x00281053');
    const [b] = numbers(dataSet, 'x00281052');
    // Finite is not enough: a slope of 1e308 overflows the value range to infinity. Real rescales are
    // small (CT: 1 and -1024; CR: slopes around 0.001..1000).
    if (
      s !== undefined &&
      (!Number.isFinite(s) || s === 0 || Math.abs(s) > MAX_RESCALE_SLOPE || Math.abs(s) < 1 / MAX_RESCALE_SLOPE)
    ) {
      warnings.push(`Rescale Slope "${dataSet.string('x00281053')}" is unusable; 1 was used`);
    } else if (s !== undefined) slope = s;
    if (b !== undefined && (!Number.isFinite(b) || Math.abs(b) > MAX_RESCALE_INTERCEPT))
      warnings.push(`Rescale Intercept "${dataSet.string('x00281052')}" is unusable; 0 was used`);
    else if (b !== undefined) intercept = b;
    if (slope !== 1 || intercept !== 0) modalityTransform = `Rescale slope ${slope}, intercept ${intercept}`;
  }

  let mMin: number;
  let mMax: number;
  if (modality) {
    mMin = Infinity;
    mMax = -Infinity;
    /* eslint-disable @typescript-eslint/no-non-null-assertion -- modality holds count values */
    for (let i = 0; i < count; i++) {
      const v = modality[i]!;
      if (v < mMin) mMin = v;
      if (v > mMax) mMax = v;
    }
    /* eslint-enable @typescript-eslint/no-non-null-assertion */
  } else {
    const a = frame.min * slope + intercept;
    const b = frame.max * slope + intercept;
    mMin = Math.min(a, b);
    mMax = Math.max(a, b);
  }

  const centres = numbers(dataSet, 'x00281050');
  const widths = numbers(dataSet, 'x00281051');
  let voiLut =
    centres.length === 0
      ? readLut(
          fileName,
          dataSet,
          'x00283010',
          signed && !modalityLut && slope === 1 && intercept === 0,
          'VOI LUT Sequence',
        )
      : null;
  if (voiLut && (voiLut.bits < 1 || voiLut.bits > 16)) {
    // 0 bits per entry would divide by zero below and turn every pixel into NaN.
    warnings.push(
      `the VOI LUT Sequence declares ${voiLut.bits} bits per entry (1 to 16 are possible); it was not applied and the automatic window is used`,
    );
    voiLut = null;
  }

  if (voiLut) {
    // A VOI LUT is not linear, so it is applied here and the default window shows its output as-is.
    const data = new Uint16Array(count);
    const outMax = 2 ** voiLut.bits - 1;
    const k = 65535 / outMax;
    const stored = modality ? null : valuesOf(frame);
    /* eslint-disable @typescript-eslint/no-non-null-assertion --
       stored (when there is no modality LUT) and modality hold count = rows x columns values */
    for (let i = 0; i < count; i++) {
      const m = modality ? modality[i]! : Math.round(stored![i]! * slope + intercept);
      const out = Math.min(lookup(voiLut, m), outMax) * k;
      data[i] = Math.round(monochrome1 ? 65535 - out : out);
    }
    /* eslint-enable @typescript-eslint/no-non-null-assertion */
    return {
      pixels: {
        width,
        height,
        data,
        modalitySlope: monochrome1 ? -outMax / 65535 : outMax / 65535,
        modalityIntercept: monochrome1 ? outMax : 0,
        windows: [
          { name: voiLut.explanation ? `VOI LUT: ${voiLut.explanation}` : 'VOI LUT', center: 32767.5, width: 65536 },
          automaticWindow(data, width, height),
        ],
        voiLutApplied: true,
      },
      modalityTransform,
      voiLutApplied: true,
      voiLutIgnored: false,
      warnings,
    };
  }

  const range = mMax > mMin ? mMax - mMin : 1;
  const k = 65535 / range;
  const toData = (m: number) => (monochrome1 ? 65535 - (m - mMin) * k : (m - mMin) * k);
  // Linear in the stored value: data = a * v + c.
  const a = (monochrome1 ? -k : k) * slope;
  const c = monochrome1 ? 65535 - (intercept - mMin) * k : (intercept - mMin) * k;
  const values = frame.values;
  let automatic: WindowPreset | null = null;
  // Made only when needed: a summary (`cvm info`) of a linear mapping never touches 2 bytes per pixel.
  let data: Uint16Array | null = null;
  /* eslint-disable @typescript-eslint/no-non-null-assertion --
     values and modality hold count = rows x columns values */
  if (
    !withData &&
    !modality &&
    !(values instanceof Float64Array) &&
    Number.isInteger(frame.min) &&
    frame.max - frame.min < MAX_TABLE_ENTRIES
  ) {
    // The display value of every stored value in the frame's range, computed as the loop below computes it.
    const table = new Uint16Array(frame.max - frame.min + 1);
    for (let v = frame.min; v <= frame.max; v++) table[v - frame.min] = a * v + c + 0.5;
    automatic =
      values === null
        ? automaticWindowOfCounts(frame.centralCounts, frame.min, frame.max, table)
        : automaticWindowOfStored(values, width, height, table, frame.min);
  } else if (modality) {
    data = new Uint16Array(count);
    for (let i = 0; i < count; i++) data[i] = Math.round(toData(modality[i]!));
  } else {
    const stored = valuesOf(frame);
    data = new Uint16Array(count);
    // a * v + c lies in 0..65535 here, so adding 0.5 and truncating rounds.
    for (let i = 0; i < count; i++) data[i] = a * stored[i]! + c + 0.5;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */

  const windows: WindowPreset[] = [];
  const explanations = (dataSet.string('x00281055') ?? '').split('\\').map((e) => e.trim());
  for (const [i, c] of centres.entries()) {
    const w = widths[i] ?? widths[0];
    if (w === undefined || !Number.isFinite(c) || !Number.isFinite(w) || w <= 0) {
      warnings.push(
        `window preset ${i + 1} (centre "${centres[i]}", width "${widths[i] ?? ''}") is unusable and was left out`,
      );
      continue;
    }
    const lo = toData(c - w / 2);
    const hi = toData(c + w / 2);
    windows.push({
      name: explanations[i] || `File preset ${i + 1} (C ${c} / W ${w})`,
      center: (lo + hi) / 2,
      width: Math.abs(hi - lo),
    });
  }
  windows.push(automatic ?? automaticWindow(displayed(data), width, height));

  return {
    pixels: {
      width,
      height,
      data,
      modalitySlope: (monochrome1 ? -range : range) / 65535,
      modalityIntercept: monochrome1 ? mMin + range : mMin,
      windows,
    },
    modalityTransform,
    voiLutApplied: false,
    voiLutIgnored: centres.length > 0 && dataSet.elements.x00283010 !== undefined,
    warnings,
  };
}
