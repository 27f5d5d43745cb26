/**
 * JPEG coding processes beyond baseline, made by libjpeg-turbo's cjpeg: DICOM with the retired progressive JPEG
 * transfer syntaxes, as dcmtk's img2dcm writes them when it wraps a progressive JPEG (a photo of a film, a web
 * export) without decoding it, gives the pixels of that JPEG file; an arithmetic-coded JPEG is refused by name.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../main/dicom/index';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-progressive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 160 x 120 grey or colour PNM with edges and gradients. */
function pnm(colour: boolean): Buffer {
  const w = 160;
  const h = 120;
  const px = Buffer.alloc(w * h * (colour ? 3 : 1));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = Math.round(80 + 60 * Math.sin(x / 9) * Math.cos(y / 13) + (x > 70 && y > 40 ? 70 : 0));
      if (colour) px.set([Math.min(255, v + 25), v, Math.max(0, v - 20)], (y * w + x) * 3);
      else px[y * w + x] = v;
    }
  return Buffer.concat([Buffer.from(`${colour ? 'P6' : 'P5'}\n${w} ${h}\n255\n`), px]);
}

describe('progressive JPEG in DICOM (retired syntaxes 1.2.840.10008.1.2.4.55)', () => {
  it.each([
    // Grey: the same values; colour: the luma of the same decode, rounded on each side.
    ['grey', false, 0.01],
    ['colour', true, 1.5],
  ] as const)('%s: img2dcm of a progressive JPEG gives the pixels of that JPEG', async (name, colour, tolerance) => {
    const source = path.join(dir, `${name}.pnm`);
    const jpeg = path.join(dir, `${name}.jpg`);
    const dicom = path.join(dir, `${name}.dcm`);
    writeFileSync(source, pnm(colour));
    execFileSync('cjpeg', ['-progressive', '-quality', '90', '-outfile', jpeg, source]);
    execFileSync('img2dcm', ['-q', jpeg, dicom]);
    const syntax = execFileSync('dcmdump', ['-Un', '+P', '0002,0010', dicom], { encoding: 'utf8' });
    expect(syntax).toContain('1.2.840.10008.1.2.4.55');
    const opened = await decodeImageFile(`${name}.dcm`, readFileSync(dicom));
    const asJpeg = await decodeImageFile(`${name}.jpg`, readFileSync(jpeg));
    expect(opened.info).toMatchObject({ format: 'dicom', width: 160, height: 120 });
    expect(opened.info.transferSyntax?.name).toMatch(/Full Progression/);
    // The DICOM's stored values (its modality values: no rescale) against the JPEG file's grey (value x 257).
    const { modalitySlope, modalityIntercept } = opened.pixels;
    let max = 0;
    for (let i = 0; i < asJpeg.pixels.data.length; i++) {
      const stored = opened.pixels.data[i]! * modalitySlope + modalityIntercept;
      max = Math.max(max, Math.abs(stored - asJpeg.pixels.data[i]! / 257));
    }
    expect(max).toBeLessThan(tolerance);
  });
});

describe('an arithmetic-coded JPEG file', () => {
  it('is refused with what to do, not with the codec library message', async () => {
    const source = path.join(dir, 'arithmetic.pnm');
    const jpeg = path.join(dir, 'arithmetic.jpg');
    writeFileSync(source, pnm(false));
    execFileSync('cjpeg', ['-arithmetic', '-outfile', jpeg, source]);
    await expect(decodeImageFile('arithmetic.jpg', readFileSync(jpeg))).rejects.toThrow(
      'arithmetic.jpg: arithmetic-coded JPEG is not supported (Huffman-coded only): save the image again as an ordinary JPEG or as PNG',
    );
  });
});
