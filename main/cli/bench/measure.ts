/** What several benches share: medians of repeated runs, and the image module of their synthetic DICOM files. */
import { median } from '../../../core/metrics/index';
import { el, type DicomElement } from '../../dicom/writer';

export async function medianMs(runs: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

/**
 * The Image Pixel module of an unsigned grey (MONOCHROME2) image of `bitsStored` bits, 0.1 mm pixels: 8-bit
 * samples up to 8 bits, 16-bit above.
 */
export function greyImageModule(width: number, height: number, bitsStored: number): DicomElement[] {
  return [
    el(0x0028, 0x0002, 'US', [1]),
    el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    el(0x0028, 0x0010, 'US', [height]),
    el(0x0028, 0x0011, 'US', [width]),
    el(0x0028, 0x0030, 'DS', '0.1\\0.1'),
    el(0x0028, 0x0100, 'US', [bitsStored > 8 ? 16 : 8]),
    el(0x0028, 0x0101, 'US', [bitsStored]),
    el(0x0028, 0x0102, 'US', [bitsStored - 1]),
    el(0x0028, 0x0103, 'US', [0]),
  ];
}
