/** decodeImageFile on the project's own small fixtures (test/fixtures/dicom, made by make-fixtures.ts). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../main/dicom/index';
import { el, writeDicom } from '../../main/dicom/writer';
import { HEIGHT, syntheticImage, WIDTH } from '../fixtures/dicom/make-fixtures';
import { decodeError, FIXTURES, maxModalityDifference, modalityAt, openFixture } from './helpers';

const SOURCE = syntheticImage();

const MINIMAL_IMAGE = [
  el(0x0028, 0x0010, 'US', [2]),
  el(0x0028, 0x0011, 'US', [2]),
  el(0x0028, 0x0100, 'US', [8]),
  el(0x0028, 0x0101, 'US', [8]),
  el(0x0028, 0x0102, 'US', [7]),
  el(0x7fe0, 0x0010, 'OB', Uint8Array.from([0, 1, 2, 3])),
];

describe('pixel values', () => {
  it('an uncompressed 12-bit image keeps its stored values as modality values', async () => {
    const { info, pixels } = await openFixture('mono2.dcm');
    expect([info.width, info.height, info.frames, info.bitsStored]).toEqual([WIDTH, HEIGHT, 1, 12]);
    expect(pixels.data.length).toBe(WIDTH * HEIGHT);
    for (let i = 0; i < SOURCE.length; i += 7) expect(modalityAt(pixels, i)).toBeCloseTo(SOURCE[i]!, 1);
    expect(Math.min(...pixels.data)).toBe(0);
    expect(Math.max(...pixels.data)).toBe(65535);
  });

  it('a MONOCHROME1 image is inverted so that it displays like MONOCHROME2', async () => {
    const mono2 = await openFixture('mono2.dcm');
    const mono1 = await openFixture('mono1.dcm');
    expect(mono1.info.invertedFromMonochrome1).toBe(true);
    expect(mono2.info.invertedFromMonochrome1).toBe(false);
    for (let i = 0; i < SOURCE.length; i += 5) expect(mono1.pixels.data[i]).toBe(65535 - mono2.pixels.data[i]!);
    // The modality values are unchanged by the inversion.
    for (let i = 0; i < SOURCE.length; i += 5) expect(modalityAt(mono1.pixels, i)).toBeCloseTo(SOURCE[i]!, 1);
  });

  it('the window preset of a MONOCHROME1 file shows the same picture as on MONOCHROME2', async () => {
    const mono2 = await openFixture('mono2.dcm');
    const mono1 = await openFixture('mono1.dcm');
    const [w2] = mono2.pixels.windows;
    const [w1] = mono1.pixels.windows;
    expect(w1!.width).toBeCloseTo(w2!.width, 6);
    expect(w1!.center).toBeCloseTo(65535 - w2!.center, 6);
  });

  it('signed pixels in big endian with rescale slope and intercept give the rescaled values', async () => {
    const { pixels, info } = await openFixture('signed-rescale-big-endian.dcm');
    expect(info.transferSyntax?.uid).toBe('1.2.840.10008.1.2.2');
    for (let i = 0; i < SOURCE.length; i += 7)
      expect(modalityAt(pixels, i)).toBeCloseTo((SOURCE[i]! - 2048) * 0.5 - 100, 1);
  });

  it('bits outside Bits Stored under High Bit are ignored', async () => {
    const shifted = await openFixture('high-bit.dcm');
    const plain = await openFixture('mono2.dcm');
    expect(shifted.pixels.data).toEqual(plain.pixels.data);
  });

  it('a modality LUT maps stored values through the table', async () => {
    const { pixels, info } = await openFixture('modality-lut.dcm');
    for (let i = 0; i < SOURCE.length; i += 11)
      expect(modalityAt(pixels, i)).toBeCloseTo(Math.round((SOURCE[i]! / 4095) ** 2 * 65535), 0);
    expect(info.notes?.join(' ')).toMatch(/Modality LUT \(4096 entries, SQUARE\)/);
  });

  it('a VOI LUT without window presets is applied to the pixels and shown full range by default', async () => {
    const { pixels } = await openFixture('voi-lut.dcm');
    expect(pixels.voiLutApplied).toBe(true);
    expect(pixels.windows[0]).toMatchObject({ name: 'VOI LUT: GAMMA', center: 32767.5, width: 65536 });
    for (let i = 0; i < SOURCE.length; i += 11)
      expect(modalityAt(pixels, i)).toBeCloseTo(Math.round((SOURCE[i]! / 4095) ** 0.5 * 4095), 0);
  });

  it('every window preset of the file is offered, named by its explanation, before the automatic one', async () => {
    const { pixels } = await openFixture('ips-magnification.dcm');
    expect(pixels.windows.map((w) => w.name)).toEqual([
      'FULL',
      'BONE',
      'Automatic (1st-99th percentile, central part)',
    ]);
    // BONE: centre 1500, width 1000 in modality units.
    const bone = pixels.windows[1]!;
    const toModality = (d: number) => d * pixels.modalitySlope + pixels.modalityIntercept;
    expect(toModality(bone.center - bone.width / 2)).toBeCloseTo(1000, 6);
    expect(toModality(bone.center + bone.width / 2)).toBeCloseTo(2000, 6);
  });

  it('without presets the automatic window comes first and spans the bulk of the image, not its border', async () => {
    const { pixels } = await openFixture('no-spacing.dcm');
    expect(pixels.windows).toHaveLength(1);
    const [auto] = pixels.windows;
    // The 4-pixel dark border (2% of the image) lies below the window.
    const low = auto!.center - auto!.width / 2;
    expect(pixels.data[0]!).toBeLessThan(low);
    expect(pixels.data[WIDTH * 10 + 30]!).toBeGreaterThan(low);
  });

  it('a multi-frame file reports its frame count and opens the frame asked for', async () => {
    const first = await openFixture('multiframe.dcm');
    const third = await openFixture('multiframe.dcm', 2);
    expect(first.info.frames).toBe(3);
    for (let i = 100; i < SOURCE.length; i += 97) {
      expect(modalityAt(first.pixels, i)).toBeCloseTo(SOURCE[i]!, 1);
      expect(modalityAt(third.pixels, i)).toBeCloseTo(Math.min(4095, SOURCE[i]! + 1000), 1);
    }
    const error = await decodeError(openFixture('multiframe.dcm', 3));
    expect(error.message).toBe('multiframe.dcm: frame 4 was asked for but the file has 3 frame(s)');
  });

  it('an RGB secondary capture (planar) becomes grey; a grey stored as RGB keeps its values', async () => {
    const { pixels, info } = await openFixture('rgb-planar.dcm');
    expect(info.photometric).toBe('RGB');
    const grey = (i: number) => SOURCE[i]! >> 4;
    for (let i = WIDTH * 20; i < SOURCE.length; i += 13) expect(modalityAt(pixels, i)).toBeCloseTo(grey(i), 1);
    expect(modalityAt(pixels, 0)).toBeCloseTo(Math.round(0.299 * 255), 1); // the pure red square
  });

  it('a meta header without the 128-byte preamble is read', async () => {
    const bytes = readFileSync(path.join(FIXTURES, 'mono2.dcm')).subarray(132);
    const { info, pixels } = await decodeImageFile('nopreamble.dcm', bytes);
    expect(info.notes?.[0]).toBe('layout: meta header without the 128-byte preamble');
    expect(modalityAt(pixels, 500)).toBeCloseTo(SOURCE[500]!, 1);
  });

  it('a data set without preamble and meta header is read, its encoding guessed', async () => {
    const { info, pixels } = await openFixture('bare-implicit.dcm');
    expect(info.transferSyntax?.uid).toBe('1.2.840.10008.1.2');
    expect(info.notes?.[0]).toMatch(/no Part 10 preamble/);
    expect(modalityAt(pixels, 500)).toBeCloseTo(SOURCE[500]!, 1);
  });
});

describe('transfer syntaxes give the same pixels as the uncompressed file', () => {
  const lossless = [
    'syntax-implicit.dcm',
    'syntax-explicit-be.dcm',
    'syntax-deflate.dcm',
    'syntax-rle.dcm',
    'syntax-jpeg-lossless.dcm',
    'syntax-jpeg-ls.dcm',
    'syntax-j2k-lossless.dcm',
  ];
  it.each(lossless)('%s decodes exactly', async (name) => {
    const reference = await openFixture('mono2.dcm');
    const { pixels } = await openFixture(name);
    expect(pixels.data).toEqual(reference.pixels.data);
  });

  it('JPEG-LS near-lossless stays within its NEAR bound of 3', async () => {
    const reference = await openFixture('mono2.dcm');
    const { pixels } = await openFixture('syntax-jpeg-ls-near.dcm');
    expect(maxModalityDifference(pixels, reference.pixels).max).toBeLessThanOrEqual(3.05);
  });

  it('lossy JPEG 2000 stays within 2% of the value range on average', async () => {
    const reference = await openFixture('mono2.dcm');
    const { pixels } = await openFixture('syntax-j2k.dcm');
    expect(maxModalityDifference(pixels, reference.pixels).mean).toBeLessThan(0.02 * 4095);
  });

  it('8-bit JPEG baseline stays within 2 grey levels on average', async () => {
    const { pixels } = await openFixture('syntax-jpeg-baseline.dcm');
    let sum = 0;
    for (let i = 0; i < SOURCE.length; i++) sum += Math.abs(modalityAt(pixels, i) - (SOURCE[i]! >> 4));
    expect(sum / SOURCE.length).toBeLessThan(2);
  });
});

describe('pixel spacing and its source', () => {
  it.each([
    ['pixel-spacing-first.dcm', 0.1, 0.12, 'PixelSpacing'],
    [
      'ips-magnification.dcm',
      0.15 / 1.1,
      0.15 / 1.1,
      'ImagerPixelSpacing corrected by EstimatedRadiographicMagnificationFactor',
    ],
    ['ips-only.dcm', 0.139, 0.14, 'ImagerPixelSpacing'],
    ['nominal-scanned.dcm', 0.0847, 0.0847, 'NominalScannedPixelSpacing'],
  ] as const)('%s: %f x %f mm from %s', async (name, row, col, source) => {
    const { info } = await openFixture(name);
    expect(info.spacing?.rowMm).toBeCloseTo(row, 9);
    expect(info.spacing?.colMm).toBeCloseTo(col, 9);
    expect(info.spacing?.source).toBe(source);
    expect(info.warnings).toEqual([]);
  });

  it('the magnification correction is spelled out in the detail', async () => {
    const { info } = await openFixture('ips-magnification.dcm');
    expect(info.spacing?.detail).toBe('ImagerPixelSpacing 0.15 x 0.15 mm / magnification 1.1 = 0.136364 x 0.136364 mm');
  });

  it('uncorrected ImagerPixelSpacing says it is measured at the detector', async () => {
    const { info } = await openFixture('ips-only.dcm');
    expect(info.spacing?.detail).toMatch(/at the detector, not corrected for magnification/);
  });

  it('a file without spacing is uncalibrated, without a warning', async () => {
    const { info } = await openFixture('no-spacing.dcm');
    expect(info.spacing).toBeNull();
    expect(info.warnings).toEqual([]);
  });

  it.each([
    [
      'zero-spacing.dcm',
      'zero-spacing.dcm: PixelSpacing (0028,0030) "0\\0" is zero or negative; a pixel spacing must be positive: the image is uncalibrated',
    ],
    [
      'negative-spacing.dcm',
      'negative-spacing.dcm: ImagerPixelSpacing (0018,1164) "-0.1\\0.1" is zero or negative; a pixel spacing must be positive: the image is uncalibrated',
    ],
    [
      'zero-magnification.dcm',
      'zero-magnification.dcm: EstimatedRadiographicMagnificationFactor (0018,1114) "0" is not a positive number, so ImagerPixelSpacing cannot be corrected: the image is uncalibrated',
    ],
  ])('%s opens uncalibrated with a warning naming the attribute', async (name, warning) => {
    const { info } = await openFixture(name);
    expect(info.spacing).toBeNull();
    expect(info.warnings).toEqual([warning]);
  });

  it('PNG and JPEG imports are always uncalibrated', async () => {
    for (const name of ['grey8.png', 'grey.jpg']) expect((await openFixture(name)).info.spacing).toBeNull();
  });
});

describe('patient and study metadata', () => {
  it('reads the patient, study and device attributes and the age at the study date', async () => {
    const { info } = await openFixture('mono2.dcm');
    expect(info.meta).toEqual({
      patientName: 'Doe, Jane',
      patientId: 'P-001',
      sex: 'F',
      birthDate: '2012-09-15',
      studyDate: '2024-03-15',
      studyDescription: 'Lateral ceph',
      studyInstanceUid: '1.2.826.0.1.3680043.10.2.999',
      modality: 'DX',
      manufacturer: 'Fixture Imaging',
      manufacturerModel: 'Writer 1',
      institution: 'Test Clinic',
      ageYears: 11.5,
    });
  });

  it('decodes UTF-8 (ISO_IR 192) names, with the ideographic form after the alphabetic one', async () => {
    const { info } = await openFixture('utf8-name.dcm');
    expect(info.meta.patientName).toBe('Gonçalves, Zoë (山田, 太郎)');
    expect(info.meta.institution).toBe('Clínica São João');
  });

  it('decodes ISO 2022 IR 87 (Japanese, with escape sequences) names', async () => {
    // The example of DICOM PS3.5 H.3.1.
    const name = Buffer.from(
      'Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B',
      'latin1',
    );
    const bytes = writeDicom([
      el(0x0008, 0x0005, 'CS', '\\ISO 2022 IR 87'),
      el(0x0010, 0x0010, 'PN', name),
      ...MINIMAL_IMAGE,
    ]);
    const { info } = await decodeImageFile('jp.dcm', bytes);
    expect(info.meta.patientName).toBe('Yamada, Tarou (山田, 太郎)');
  });

  it('decodes latin-1 (ISO_IR 100) names', async () => {
    const { info } = await openFixture('latin1-name.dcm');
    expect(info.meta.patientName).toBe('Müller, Jürgen');
    expect(info.meta.institution).toBe('Clínica São João');
  });
});

describe('PNG and JPEG', () => {
  it.each(['grey8.png', 'grey-as-rgb.png'])(
    '%s maps its 8-bit grey onto 0..65535, shown as-is by default',
    async (name) => {
      const { pixels, info } = await openFixture(name);
      expect(info.format).toBe('png');
      for (let i = 0; i < SOURCE.length; i += 9) expect(pixels.data[i]).toBe((SOURCE[i]! >> 4) * 257);
      expect(pixels.windows[0]).toMatchObject({ center: 32767.5, width: 65536 });
      expect(modalityAt(pixels, 9)).toBeCloseTo(SOURCE[9]! >> 4, 6);
    },
  );

  it('a 16-bit PNG keeps 16 bits', async () => {
    const { pixels, info } = await openFixture('grey16.png');
    expect(info.bitsStored).toBe(16);
    for (let i = 0; i < SOURCE.length; i += 9) expect(pixels.data[i]).toBe(SOURCE[i]! * 16);
  });

  it('a 1-bit grey PNG and a palette PNG become grey', async () => {
    const bits = encodePng({
      width: 10,
      height: 2,
      data: Uint8Array.from([0b10101010, 0b10000000, 0b01010101, 0b01000000]),
      channels: 1,
      depth: 1,
    });
    const oneBit = await decodeImageFile('bits.png', bits);
    expect(Array.from(oneBit.pixels.data, (v) => v / 65535).join('')).toBe('10101010100101010101');
    const palette = encodePng({
      width: 2,
      height: 1,
      data: Uint8Array.from([0, 1]),
      channels: 1,
      depth: 8,
      palette: [
        [255, 0, 0],
        [0, 0, 255],
      ],
    });
    const indexed = await decodeImageFile('palette.png', palette);
    expect(Array.from(indexed.pixels.data)).toEqual([Math.round(0.299 * 255 * 257), Math.round(0.114 * 255 * 257)]);
  });

  it.each(['grey.jpg', 'grey-as-rgb.jpg'])('%s decodes to its grey values within JPEG error', async (name) => {
    const { pixels, info } = await openFixture(name);
    expect(info.format).toBe('jpeg');
    expect([info.width, info.height]).toEqual([WIDTH, HEIGHT]);
    let sum = 0;
    for (let i = 0; i < SOURCE.length; i++) sum += Math.abs(modalityAt(pixels, i) - (SOURCE[i]! >> 4));
    expect(sum / SOURCE.length).toBeLessThan(1.5);
  });
});

describe('bad input is refused with a message naming the file and the problem', () => {
  const cases: [string, string, string][] = [
    [
      'not-dicom.txt',
      'corrupt-file',
      'not-dicom.txt: not a DICOM file (no "DICM" marker and no recognisable DICOM data set), nor a PNG, JPEG or TIFF image',
    ],
    [
      'no-pixel-data.dcm',
      'corrupt-file',
      'no-pixel-data.dcm: the file has no Pixel Data (7FE0,0010): it is not an image',
    ],
    [
      'unsupported-syntax.dcm',
      'unsupported',
      'unsupported-syntax.dcm: the transfer syntax MPEG2 Main Profile / Main Level (1.2.840.10008.1.2.4.100) is not supported',
    ],
    [
      'inconsistent-dimensions.dcm',
      'corrupt-file',
      'inconsistent-dimensions.dcm: inconsistent dimensions: Pixel Data holds 6144 bytes but 64x96 pixels x 1 samples x 16 bits x 1 frame(s) need 12288',
    ],
    [
      'truncated.dcm',
      'corrupt-file',
      'truncated.dcm: the file is truncated or damaged: DICOM parsing stopped (dicomParser:parseDicomDataSetExplicit: buffer overrun)',
    ],
  ];
  it.each(cases)('%s', async (name, code, message) => {
    const error = await decodeError(openFixture(name));
    expect(error.code).toBe(code);
    expect(error.fileName).toBe(name);
    expect(error.message).toBe(message);
  });

  it('a corrupt compressed frame is refused, and the codec still decodes the next file', async () => {
    const error = await decodeError(openFixture('corrupt-jpeg-ls.dcm'));
    expect(error.code).toBe('corrupt-file');
    expect(error.message).toMatch(/^corrupt-jpeg-ls\.dcm: the JPEG-LS Lossless pixel data cannot be decoded \(.+\)$/);
    const reference = await openFixture('mono2.dcm');
    expect((await openFixture('syntax-jpeg-ls.dcm')).pixels.data).toEqual(reference.pixels.data);
  });

  it.each([
    ['grey.bmp', 'a BMP image'],
    ['grey.gif', 'a GIF image'],
    ['grey.webp', 'a WebP image'],
    ['grey.jp2', 'a JPEG 2000 image (outside DICOM)'],
    ['grey.j2k', 'a JPEG 2000 image (outside DICOM)'],
    ['grey.pdf', 'a PDF document'],
  ])('%s is named as %s, with what to do instead', async (name, what) => {
    const bytes = readFileSync(path.join(FIXTURES, '..', 'other-formats', name));
    const error = await decodeError(decodeImageFile(name, bytes));
    expect(error.code).toBe('unsupported');
    expect(error.message).toBe(
      `${name}: ${what}, which the workstation does not read: it reads DICOM, PNG, JPEG and TIFF. ` +
        'Export the radiograph from its software as DICOM, or save it as PNG or TIFF (lossless), and import that',
    );
  });

  it('an empty file, a truncated PNG and a truncated JPEG each get their own message', async () => {
    const png = readFileSync(path.join(FIXTURES, 'grey8.png'));
    const jpeg = readFileSync(path.join(FIXTURES, 'grey.jpg'));
    expect((await decodeError(decodeImageFile('empty.dcm', new Uint8Array()))).message).toBe(
      'empty.dcm: the file is empty',
    );
    expect((await decodeError(decodeImageFile('cut.png', png.subarray(0, 60)))).message).toMatch(
      /^cut\.png: the PNG cannot be decoded/,
    );
    expect((await decodeError(decodeImageFile('cut.jpg', jpeg.subarray(0, 100)))).message).toMatch(/^cut\.jpg: /);
  });

  it('every prefix of a valid file is refused or decoded, never crashes', async () => {
    const bytes = readFileSync(path.join(FIXTURES, 'syntax-jpeg-ls.dcm'));
    for (const length of [1, 10, 131, 132, 140, 300, 600, 1000, bytes.length - 100, bytes.length - 1]) {
      await decodeImageFile('cut.dcm', bytes.subarray(0, length)).then(
        (image) => expect(image.pixels.data.length).toBe(WIDTH * HEIGHT),
        (error: unknown) => expect((error as Error).message).toMatch(/^cut\.dcm: /),
      );
    }
  });
});
