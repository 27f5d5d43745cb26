/** Synthetic DICOM studies for the PACS benchmark and tests: small CR images with their own patient and study. */
import { el, writeDicom } from '../../dicom/writer';
import type { Orthanc } from './orthanc';

/** A 16x16 CR image of study `i` (patient BULK-<i mod 500>, study dates spread over 2015-2024). */
export function bulkStudy(i: number, root = '2.25.4242'): Uint8Array {
  const year = 2015 + (i % 10);
  const month = String(1 + (i % 12)).padStart(2, '0');
  const day = String(1 + (i % 28)).padStart(2, '0');
  const pixels = new Uint8Array(16 * 16 * 2);
  for (let p = 0; p < 256; p++) pixels[2 * p] = (p + i) & 0xff;
  return writeDicom([
    el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
    el(0x0008, 0x0018, 'UI', `${root}.3.${i}`),
    el(0x0008, 0x0020, 'DA', `${year}${month}${day}`),
    el(0x0008, 0x0060, 'CS', 'CR'),
    el(0x0008, 0x1030, 'LO', `bulk study ${i}`),
    el(0x0010, 0x0010, 'PN', `Bulk^Patient${i % 500}`),
    el(0x0010, 0x0020, 'LO', `BULK-${i % 500}`),
    el(0x0010, 0x0030, 'DA', `${year - 12}0101`),
    el(0x0010, 0x0040, 'CS', i % 2 ? 'F' : 'M'),
    el(0x0018, 0x0015, 'CS', 'SKULL'),
    el(0x0020, 0x000d, 'UI', `${root}.1.${i}`),
    el(0x0020, 0x000e, 'UI', `${root}.2.${i}`),
    el(0x0020, 0x0010, 'SH', String(i)),
    el(0x0028, 0x0002, 'US', [1]),
    el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    el(0x0028, 0x0010, 'US', [16]),
    el(0x0028, 0x0011, 'US', [16]),
    el(0x0028, 0x0100, 'US', [16]),
    el(0x0028, 0x0101, 'US', [12]),
    el(0x0028, 0x0102, 'US', [11]),
    el(0x0028, 0x0103, 'US', [0]),
    el(0x7fe0, 0x0010, 'OW', pixels),
  ]);
}

/** Uploads studies 0..count-1, `concurrency` at a time. */
export async function uploadBulk(orthanc: Orthanc, count: number, concurrency = 4): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await orthanc.upload(bulkStudy(i));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
