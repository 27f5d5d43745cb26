/** Display windows in the units of ImagePixels.data (0..65535). */
import type { WindowPreset } from '../../core/api/image';

export const FULL_RANGE_WINDOW: WindowPreset = { name: 'Full range', center: 32767.5, width: 65536 };

const HISTOGRAM_BINS = 4096;
const BIN_SHIFT = 4; // 65536 / 4096

/** Share of each side left out of the automatic window's histogram: collimator shadows and labels sit there. */
const EDGE_SHARE = 0.15;

/** The central part of the image that the automatic window reads: columns x0..x1, rows y0..y1 (exclusive). */
export function centralPart(width: number, height: number): { x0: number; x1: number; y0: number; y1: number } {
  const x0 = Math.floor(width * EDGE_SHARE);
  const y0 = Math.floor(height * EDGE_SHARE);
  return {
    x0,
    x1: Math.max(x0 + 1, Math.ceil(width * (1 - EDGE_SHARE))),
    y0,
    y1: Math.max(y0 + 1, Math.ceil(height * (1 - EDGE_SHARE))),
  };
}

/**
 * A window from the 1st..99th percentiles of the histogram of the image's central part (the outer 15% on
 * each side is left out, where collimator shadows, film borders and burnt-in labels are). Pixels at a
 * single extreme grey level (saturation) are left out too when they are plentiful.
 */
export function automaticWindow(data: Uint16Array, width: number, height: number): WindowPreset {
  const histogram = new Uint32Array(HISTOGRAM_BINS);
  const { x0, x1, y0, y1 } = centralPart(width, height);
  /* eslint-disable @typescript-eslint/no-non-null-assertion --
     data holds width x height values (a decoded frame), x stays inside the rows y0..y1 and columns x0..x1 of it;
     histogram indices are 16-bit values >> BIN_SHIFT < HISTOGRAM_BINS */
  for (let y = y0; y < y1; y++) {
    const row = y * width;
    for (let x = row + x0, end = row + x1; x < end; x++) histogram[data[x]! >> BIN_SHIFT]!++;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return windowOfHistogram(histogram);
}

/**
 * The automatic window of the display values `table[v - offset]` of stored values v, without making the
 * display pixels (`cvm info` reports the window and needs no pixels): the same histogram, so the same window.
 */
export function automaticWindowOfStored(
  values: Uint8Array | Uint16Array | Int32Array,
  width: number,
  height: number,
  table: Uint16Array,
  offset: number,
): WindowPreset {
  const histogram = new Uint32Array(HISTOGRAM_BINS);
  const { x0, x1, y0, y1 } = centralPart(width, height);
  /* eslint-disable @typescript-eslint/no-non-null-assertion --
     values holds width x height stored values, each within offset..offset + table.length - 1 (the frame's range) */
  for (let y = y0; y < y1; y++) {
    const row = y * width;
    for (let x = row + x0, end = row + x1; x < end; x++) histogram[table[values[x]! - offset]! >> BIN_SHIFT]!++;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return windowOfHistogram(histogram);
}

/**
 * The same window as automaticWindowOfStored, from how many pixels of the central part hold each stored value
 * (`counts[v]`, for v in min..max) instead of the values themselves: `cvm info` counts them while streaming a
 * frame from the file (native-summary.ts). The same histogram, so the same window.
 */
export function automaticWindowOfCounts(
  counts: Uint32Array,
  min: number,
  max: number,
  table: Uint16Array,
): WindowPreset {
  const histogram = new Uint32Array(HISTOGRAM_BINS);
  /* eslint-disable @typescript-eslint/no-non-null-assertion --
     counts holds an entry for every stored value of the frame (min..max), table one for each of min..max */
  for (let v = min; v <= max; v++) {
    const n = counts[v]!;
    if (n !== 0) histogram[table[v - min]! >> BIN_SHIFT]! += n;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return windowOfHistogram(histogram);
}

function windowOfHistogram(histogram: Uint32Array): WindowPreset {
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- first..last lie in 0..HISTOGRAM_BINS-1 */
  let first = 0;
  while (first < HISTOGRAM_BINS - 1 && histogram[first] === 0) first++;
  let last = HISTOGRAM_BINS - 1;
  while (last > first && histogram[last] === 0) last--;
  let total = 0;
  for (let b = first; b <= last; b++) total += histogram[b]!;
  // A border is a single extreme bin holding a visible share of the image.
  const borderShare = 0.005;
  if (last > first + 2 && histogram[first]! > total * borderShare) {
    total -= histogram[first]!;
    first++;
  }
  if (last > first + 2 && histogram[last]! > total * borderShare) {
    total -= histogram[last]!;
    last--;
  }
  const lowTarget = total * 0.01;
  const highTarget = total * 0.99;
  let seen = 0;
  let low = first;
  let high = last;
  let lowFound = false;
  for (let b = first; b <= last; b++) {
    seen += histogram[b]!;
    if (!lowFound && seen > lowTarget) {
      low = b;
      lowFound = true;
    }
    if (seen >= highTarget) {
      high = b;
      break;
    }
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  const lowValue = low << BIN_SHIFT;
  const highValue = ((high + 1) << BIN_SHIFT) - 1;
  const windowWidth = Math.max(highValue - lowValue + 1, 2);
  return {
    name: 'Automatic (1st-99th percentile, central part)',
    center: lowValue + windowWidth / 2,
    width: windowWidth,
  };
}
