/** Display windows in the units of ImagePixels.data (0..65535). */
import type { WindowPreset } from '../../core/api/image';

export const FULL_RANGE_WINDOW: WindowPreset = { name: 'Full range', center: 32767.5, width: 65536 };

const HISTOGRAM_BINS = 4096;
const BIN_SHIFT = 4; // 65536 / 4096

/**
 * A window from the 1st..99th percentiles of the image's histogram. Pixels at the extreme grey levels
 * (saturated background, collimator shadows, burnt-in black borders) are left out first when they are
 * plentiful, so large uniform borders do not stretch the window beyond the anatomy.
 */
export function automaticWindow(data: Uint16Array): WindowPreset {
  const histogram = new Uint32Array(HISTOGRAM_BINS);
  for (let i = 0; i < data.length; i++) histogram[data[i]! >> BIN_SHIFT]!++;
  let first = 0;
  while (first < HISTOGRAM_BINS - 1 && histogram[first] === 0) first++;
  let last = HISTOGRAM_BINS - 1;
  while (last > first && histogram[last] === 0) last--;
  let total = 0;
  for (let b = first; b <= last; b++) total += histogram[b]!;
  // A border is a single extreme bin holding a visible share of the image.
  const borderShare = 0.005;
  if (last > first + 2 && histogram[first]! > total * borderShare) { total -= histogram[first]!; first++; }
  if (last > first + 2 && histogram[last]! > total * borderShare) { total -= histogram[last]!; last--; }
  const lowTarget = total * 0.01;
  const highTarget = total * 0.99;
  let seen = 0;
  let low = first;
  let high = last;
  let lowFound = false;
  for (let b = first; b <= last; b++) {
    seen += histogram[b]!;
    if (!lowFound && seen > lowTarget) { low = b; lowFound = true; }
    if (seen >= highTarget) { high = b; break; }
  }
  const lowValue = low << BIN_SHIFT;
  const highValue = ((high + 1) << BIN_SHIFT) - 1;
  const width = Math.max(highValue - lowValue + 1, 2);
  return { name: 'Automatic (1st-99th percentile)', center: lowValue + width / 2, width };
}
