/**
 * Presentation LUT Shape (2050,0020) INVERSE on a MONOCHROME2 image: shown inverted (low values light), as the file
 * asks and as dcmtk's dcm2pnm, an independent reader, renders it. Made from mono2.dcm by dcmtk's dcmodify.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../main/dicom/index';
import { FIXTURES, modalityAt } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-presentation-lut-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** mono2.dcm with dcmodify's changes, as a new file. */
function modified(name: string, ...changes: string[]): string {
  const file = path.join(dir, name);
  copyFileSync(path.join(FIXTURES, 'mono2.dcm'), file);
  execFileSync('dcmodify', ['-nb', ...changes, file]);
  return file;
}

/** dcm2pnm's 8-bit rendering of a file under its own first window, as a byte per pixel (after the PGM header). */
function rendered(file: string): Uint8Array {
  const pgm = path.join(dir, `${path.basename(file)}.pgm`);
  execFileSync('dcm2pnm', ['--write-raw-pnm', '--min-max-window', file, pgm]);
  const bytes = readFileSync(pgm);
  // "P5\n<w> <h>\n255\n": the header ends after its third newline.
  let at = 0;
  for (let lines = 0; lines < 3; at++) if (bytes[at] === 0x0a) lines++;
  return bytes.subarray(at);
}

const open = async (file: string) => decodeImageFile(path.basename(file), readFileSync(file));

describe('Presentation LUT Shape', () => {
  it('INVERSE on MONOCHROME2 is shown inverted, as dcm2pnm shows it; the modality values are unchanged', async () => {
    const plain = path.join(FIXTURES, 'mono2.dcm');
    const inverse = modified('inverse.dcm', '-i', '(2050,0020)=INVERSE');
    const a = rendered(plain);
    const b = rendered(inverse);
    for (let i = 0; i < a.length; i += 97) expect(Math.abs(b[i]! - (255 - a[i]!))).toBeLessThanOrEqual(1);
    const shown = await open(inverse);
    const reference = await open(plain);
    expect(shown.info.invertedFromMonochrome1).toBe(true);
    expect(shown.info.notes).toContain(
      'Presentation LUT Shape INVERSE: shown inverted (low values light), as the file asks',
    );
    for (let i = 0; i < reference.pixels.data.length; i += 97) {
      expect(shown.pixels.data[i]).toBe(65535 - reference.pixels.data[i]!);
      expect(modalityAt(shown.pixels, i)).toBeCloseTo(modalityAt(reference.pixels, i), 1);
    }
  });

  it('IDENTITY changes nothing; MONOCHROME1 stays inverted whatever its shape says', async () => {
    const reference = await open(path.join(FIXTURES, 'mono2.dcm'));
    const identity = await open(modified('identity.dcm', '-i', '(2050,0020)=IDENTITY'));
    expect(identity.info.invertedFromMonochrome1).toBe(false);
    expect(identity.pixels.data[123]).toBe(reference.pixels.data[123]);
    for (const shape of ['INVERSE', 'IDENTITY']) {
      const mono1 = await open(
        modified(`mono1-${shape}.dcm`, '-m', '(0028,0004)=MONOCHROME1', '-i', `(2050,0020)=${shape}`),
      );
      expect(mono1.info.invertedFromMonochrome1).toBe(true);
      expect(mono1.pixels.data[123]).toBe(65535 - reference.pixels.data[123]!);
    }
  });
});
