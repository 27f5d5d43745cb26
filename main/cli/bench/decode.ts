/**
 * `cvm bench --only decode`: decodeImageFile medians for the WG04 radiographs in every transfer syntax
 * (from ../shared/data beside the checkout) and one ISBI JPEG cephalogram.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImageFile, initNativeCodecs } from '../../dicom/index';
import { type BenchFigure, medianMs } from '../command';
import type { BenchArea } from './index';

const SHARED_DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'data');

const SYNTAX_FILES = ['UNC', 'RLE', 'JPLL', 'JPLY', 'JLSL', 'JLSN', 'J2KR', 'J2KI'];

function benchFiles(): string[] {
  const wg04 = SYNTAX_FILES.map((s) => path.join(SHARED_DATA, 'dicom', 'wg04-cr', `RG2_${s}.dcm`));
  return [...wg04, path.join(SHARED_DATA, 'isbi2015', 'images', '001.jpg')].filter((f) => existsSync(f));
}

export const decodeBench: BenchArea = {
  area: 'decode',
  async run({ quick }) {
    const files = benchFiles();
    if (files.length === 0) {
      return [{ area: 'decode', name: 'no files', medianMs: Number.NaN, runs: 0, note: `${SHARED_DATA} is absent` }];
    }
    await initNativeCodecs();
    const runs = quick ? 3 : 9;
    const figures: BenchFigure[] = [];
    for (const file of files) {
      const bytes = await readFile(file);
      const first = await decodeImageFile(path.basename(file), bytes); // warm-up, and the size for the note
      const median = await medianMs(runs, () => decodeImageFile(path.basename(file), bytes));
      const { info } = first;
      figures.push({
        area: 'decode',
        name: path.basename(file),
        medianMs: median,
        runs,
        note: `${info.width}x${info.height} ${info.bitsStored}-bit, ${info.transferSyntax?.name ?? info.format.toUpperCase()}`,
      });
    }
    return figures;
  },
};
