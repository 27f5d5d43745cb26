import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { ImageDecodeError, decodeImageFile } from '../../main/dicom/index';
import { TIFF_MAX_PIXELS, isTiff, lzwDecode, tiffSpacing } from '../../main/dicom/tiff';
import { lzwEncode, writeTiff, type TiffPage } from './tiff-writer';

function ramp16(w: number, h: number, seed = 1): Uint16Array {
  const d = new Uint16Array(w * h);
  for (let i = 0; i < d.length; i++) d[i] = ((i * 2654435761 + seed * 40503) >>> 7) & 0x0fff; // 12-bit values
  return d;
}
function ramp8(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = (x * 7 + y * 3 + ((x * y) % 11)) & 0xff;
  return d;
}

describe('TIFF decoding', () => {
  const cases: [string, Partial<TiffPage>, boolean][] = [
    ['uncompressed 16-bit little-endian', {}, true],
    ['uncompressed 16-bit big-endian', {}, false],
    ['LZW 16-bit, several strips', { compression: 5, rowsPerStrip: 7 }, true],
    ['Deflate 16-bit with the horizontal predictor', { compression: 8, predictor: 2 }, false],
    ['PackBits 16-bit', { compression: 32773, rowsPerStrip: 5 }, true],
  ];
  for (const [name, opts, little] of cases) {
    it(`reads ${name} exactly`, async () => {
      const data = ramp16(53, 41);
      const opened = await decodeImageFile(
        'x.tif',
        writeTiff([{ width: 53, height: 41, bits: 16, data, ...opts }], little),
      );
      expect(opened.info).toMatchObject({
        format: 'tiff',
        width: 53,
        height: 41,
        bitsStored: 16,
        photometric: 'MONOCHROME2',
        spacing: null,
      });
      expect(Array.from(opened.pixels.data)).toEqual(Array.from(data));
    });
  }

  it('reads 8-bit grey (LZW with predictor), scaled to 16 bits like PNG', async () => {
    const data = ramp8(64, 30);
    const opened = await decodeImageFile(
      'x.tiff',
      writeTiff([{ width: 64, height: 30, bits: 8, data, compression: 5, predictor: 2 }]),
    );
    expect(Array.from(opened.pixels.data)).toEqual(Array.from(data, (v) => v * 257));
  });

  it.each([
    ['floating point', 3, Float32Array.from({ length: 48 * 30 }, (_, i) => -3.5 + (i % 97) * 12.375)],
    ['signed integers', 2, Int32Array.from({ length: 48 * 30 }, (_, i) => -70000 + (i % 89) * 3001)],
    ['unsigned integers', 1, Uint32Array.from({ length: 48 * 30 }, (_, i) => 4_000_000_000 - (i % 83) * 1000)],
  ] as const)(
    'reads 32-bit grey (%s), scaled to 16 bits with a slope that gives the values back',
    async (_n, format, data) => {
      const opened = await decodeImageFile(
        'x.tif',
        writeTiff([{ width: 48, height: 30, bits: 32, sampleFormat: format, data, compression: 8, rowsPerStrip: 7 }]),
      );
      expect(opened.info).toMatchObject({ width: 48, height: 30, bitsStored: 32, photometric: 'MONOCHROME2' });
      const { modalitySlope, modalityIntercept, data: scaled } = opened.pixels;
      const values = Array.from(data, Number);
      expect(Math.min(...scaled)).toBe(0);
      expect(Math.max(...scaled)).toBe(65535);
      expect(modalityIntercept).toBe(Math.min(...values));
      for (let i = 0; i < values.length; i++)
        expect(Math.abs(scaled[i]! * modalitySlope + modalityIntercept - values[i]!)).toBeLessThanOrEqual(
          modalitySlope / 2 + 1e-6 * Math.abs(values[i]!),
        );
    },
  );

  it('a 32-bit float image with NaN and infinity: those pixels take the lowest value', async () => {
    const data = Float32Array.from({ length: 16 }, (_, i) => i / 4);
    data[3] = Number.NaN;
    data[7] = Number.POSITIVE_INFINITY;
    const opened = await decodeImageFile(
      'n.tif',
      writeTiff([{ width: 4, height: 4, bits: 32, sampleFormat: 3, data }]),
    );
    expect(opened.pixels.data[3]).toBe(0);
    expect(opened.pixels.data[7]).toBe(0);
    expect(opened.pixels.data[15]).toBe(65535);
  });

  it('reads an 8-bit palette image as the luma of its colour map', async () => {
    const data = ramp8(16, 12);
    // A grey ramp palette, reversed, with a red tint in the red entries.
    const colorMap = [
      ...Array.from({ length: 256 }, (_, i) => Math.min(65535, (255 - i) * 257 + 3000)),
      ...Array.from({ length: 256 }, (_, i) => (255 - i) * 257),
      ...Array.from({ length: 256 }, (_, i) => (255 - i) * 257),
    ];
    const page = { width: 16, height: 12, bits: 8 as const, data, photometric: 3 as const };
    const opened = await decodeImageFile('p.tif', writeTiff([{ ...page, extraTags: new Map([[320, colorMap]]) }]));
    expect(opened.info.photometric).toBe('PALETTE COLOR');
    const luma = (i: number): number =>
      Math.round(0.299 * colorMap[i]! + 0.587 * colorMap[256 + i]! + 0.114 * colorMap[512 + i]!);
    expect(Array.from(opened.pixels.data)).toEqual(Array.from(data, luma));
    const short = new Map([[320, colorMap.slice(0, 300)]]);
    await expect(decodeImageFile('q.tif', writeTiff([{ ...page, extraTags: short }]))).rejects.toThrow(
      /q\.tif: the TIFF ColorMap holds 300 values, 768 expected/,
    );
  });

  it('inverts WhiteIsZero', async () => {
    const data = ramp8(8, 8);
    const opened = await decodeImageFile('x.tif', writeTiff([{ width: 8, height: 8, bits: 8, data, photometric: 0 }]));
    expect(opened.pixels.data[5]).toBe(65535 - data[5]! * 257);
    expect(opened.info.invertedFromMonochrome1).toBe(true);
  });

  it('reads the first page of a multi-page file', async () => {
    const first = ramp16(20, 10, 1);
    const second = ramp16(30, 12, 2);
    const opened = await decodeImageFile(
      'x.tif',
      writeTiff([
        { width: 20, height: 10, bits: 16, data: first },
        { width: 30, height: 12, bits: 16, data: second },
      ]),
    );
    expect(opened.info.width).toBe(20);
    expect(Array.from(opened.pixels.data)).toEqual(Array.from(first));
    expect(opened.info.pageShown).toBe('page 1 of the 2 in the file');
  });

  it('skips a reduced-resolution first page (a preview) for the first full-resolution one', async () => {
    const preview = ramp16(10, 5, 3);
    const full = ramp16(40, 20, 4);
    const opened = await decodeImageFile(
      'p.tif',
      writeTiff([
        { width: 10, height: 5, bits: 16, data: preview, extraTags: new Map([[254, [1]]]) },
        { width: 40, height: 20, bits: 16, data: full },
      ]),
    );
    expect([opened.info.width, opened.info.height]).toEqual([40, 20]);
    expect(Array.from(opened.pixels.data)).toEqual(Array.from(full));
    expect(opened.info.pageShown).toMatch(/^page 2 of the 2 in the file \(the first at full resolution/);
  });

  it('a chain of pages that loops back, or a damaged later page, still opens the first', async () => {
    const data = ramp16(12, 6, 5);
    const bytes = Buffer.from(
      writeTiff([
        { width: 12, height: 6, bits: 16, data },
        { width: 12, height: 6, bits: 16, data },
      ]),
    );
    // The second page's "next page" pointer (after its entries) set back to the first page's directory.
    const first = bytes.readUInt32LE(4);
    const second = bytes.readUInt32LE(first + 2 + bytes.readUInt16LE(first) * 12);
    bytes.writeUInt32LE(first, second + 2 + bytes.readUInt16LE(second) * 12);
    const looped = await decodeImageFile('loop.tif', bytes);
    expect(looped.info.pageShown).toBe('page 1 of the 2 in the file');
    // The second page's entry count made absurd: it cannot be read, and is left out.
    bytes.writeUInt16LE(60000, second);
    const damaged = await decodeImageFile('damaged.tif', bytes);
    expect(Array.from(damaged.pixels.data)).toEqual(Array.from(data));
    expect(damaged.info.pageShown).toBeUndefined();
  });

  it('LZW round trip over long input, past the 12-bit table reset', () => {
    const src = new Uint8Array(200_000);
    for (let i = 0; i < src.length; i++) src[i] = (i * 31 + ((i >> 5) % 17)) & 0xff;
    expect(Array.from(lzwDecode(lzwEncode(src), src.length))).toEqual(Array.from(src));
  });

  it('takes the resolution tags as spacing only when they are real', async () => {
    expect(tiffSpacing(300, 300, 2)).toMatchObject({
      source: 'TIFF resolution',
      colMm: expect.closeTo(25.4 / 300, 6),
      rowMm: expect.closeTo(25.4 / 300, 6),
    });
    expect(tiffSpacing(100, 50, 3)).toMatchObject({ colMm: expect.closeTo(0.1, 9), rowMm: expect.closeTo(0.2, 9) });
    expect(tiffSpacing(72, 72, 2)).toBeNull(); // the writers' default
    expect(tiffSpacing(96, 96, 2)).toBeNull();
    expect(tiffSpacing(300, 300, 1)).toBeNull(); // no absolute unit
    expect(tiffSpacing(1, 1, 2)).toBeNull(); // 25.4 mm per pixel is not a radiograph
    const withRes = await decodeImageFile(
      'x.tif',
      writeTiff([{ width: 8, height: 8, bits: 8, data: ramp8(8, 8), resolution: [254, 254, 2] }]),
    );
    expect(withRes.info.spacing).toMatchObject({
      rowMm: expect.closeTo(0.1, 6),
      colMm: expect.closeTo(0.1, 6),
      source: 'TIFF resolution',
    });
    const default72 = await decodeImageFile(
      'x.tif',
      writeTiff([{ width: 8, height: 8, bits: 8, data: ramp8(8, 8), resolution: [72, 72, 2] }]),
    );
    expect(default72.info.spacing).toBeNull();
  });

  it(`refuses more than ${TIFF_MAX_PIXELS / 1e6} megapixels from the header, before allocating`, async () => {
    const tiny = writeTiff([
      {
        width: 4,
        height: 4,
        bits: 16,
        data: new Uint16Array(16),
        extraTags: new Map([
          [256, [20000]],
          [257, [20000]],
        ]),
      },
    ]);
    const error = await decodeImageFile('huge.tif', tiny).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageDecodeError);
    expect((error as ImageDecodeError).code).toBe('unsupported');
    expect((error as Error).message).toMatch(/huge\.tif: .*20000x20000.*400 megapixels/);
  });

  it('says what is wrong with a truncated, tiled or unsupported file', async () => {
    const good = writeTiff([{ width: 40, height: 40, bits: 16, data: ramp16(40, 40) }]);
    await expect(decodeImageFile('cut.tif', good.subarray(0, 1000))).rejects.toThrow(
      /cut\.tif: .*(truncated|outside the file)/,
    );
    const tiled = writeTiff([{ width: 8, height: 8, bits: 8, data: ramp8(8, 8), extraTags: new Map([[322, [16]]]) }]);
    await expect(decodeImageFile('t.tif', tiled)).rejects.toThrow(/t\.tif: the TIFF has no tile offsets/);
    const huge = new Map([
      [322, [60000]],
      [323, [60000]],
      [324, [8]],
      [325, [100]],
    ]);
    await expect(
      decodeImageFile('h.tif', writeTiff([{ width: 8, height: 8, bits: 8, data: ramp8(8, 8), extraTags: huge }])),
    ).rejects.toThrow(/h\.tif: the TIFF declares tiles of 60000x60000 pixels for a 8x8 image/);
    const withCompression = (c: number): Uint8Array =>
      writeTiff([{ width: 8, height: 8, bits: 8, data: ramp8(8, 8), extraTags: new Map([[259, [c]]]) }]);
    await expect(decodeImageFile('j.tif', withCompression(7))).rejects.toThrow(/TIFF strip 0 is not a JPEG stream/);
    await expect(decodeImageFile('o.tif', withCompression(6))).rejects.toThrow(/old-style JPEG \(compression 6\)/);
    await expect(decodeImageFile('k.tif', withCompression(34712))).rejects.toThrow(
      /compression 34712 is not supported/,
    );
  });

  it.skipIf(!HAS_SHARED_DATA)('opens a DICOM file whose preamble holds a TIFF header as DICOM', async () => {
    const bytes = readFileSync(sharedPath('dicom', 'wg04-cr', 'RG2_UNC.dcm'));
    expect(isTiff(bytes)).toBe(true); // dual-format file: TIFF header in the 128-byte preamble
    const opened = await decodeImageFile('RG2_UNC.dcm', bytes);
    expect(opened.info.format).toBe('dicom');
    expect(opened.info.spacing).toMatchObject({ rowMm: 0.2, colMm: 0.2 });
  });
});

describe('a DICOM file with a TIFF header in its preamble (dual personality, like the WG04 samples)', () => {
  it('is read as DICOM, with its PixelSpacing, not as a TIFF', async () => {
    const { readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const { REPO_ROOT } = await import('../shared-data');
    const bytes = new Uint8Array(
      readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'dicom', 'pixel-spacing-first.dcm')),
    );
    bytes.set([0x49, 0x49, 42, 0, 8, 0, 0, 0], 0);
    const opened = await decodeImageFile('dual.dcm', bytes);
    expect(opened.info.format).toBe('dicom');
    expect(opened.info.spacing).toMatchObject({ rowMm: 0.1, colMm: 0.12, source: 'PixelSpacing' });
  });
});
