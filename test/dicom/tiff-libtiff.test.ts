/**
 * TIFFs as libtiff writes them, made here by libtiff's own tools (tiffcp, ppm2tiff from libtiff-tools) from images
 * this test writes, and read back beside libtiff's decompression of the same file: JPEG strips (compression 7,
 * TIFF Technical Note 2), as scanner software writes a small TIFF, tiles, as some write large scans, and BigTIFF.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../main/dicom/index';
import { analyzeOpened, enteredSpacing, InferenceEngine, verifyModel } from '../../main/inference/index';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';
import { writeTiff } from './tiff-writer';

const MODEL = path.join(REPO_ROOT, 'models', 'cvm13-unet');
const HAS_MODEL = existsSync(path.join(MODEL, 'manifest.json'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-tiff-jpeg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a libtiff tool on files in `dir` and returns the bytes of its output. */
function libtiff(tool: string, args: readonly string[], output: string): Uint8Array {
  execFileSync(
    tool,
    args.map((a) => (a.includes('.') ? path.join(dir, a) : a)),
  );
  return readFileSync(path.join(dir, output));
}

/** A smooth image with edges, like a radiograph's soft tissue and bone: JPEG keeps it within a few grey levels. */
function film(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      d[y * w + x] = Math.round(60 + 50 * Math.sin(x / 23) * Math.cos(y / 31) + (x > w / 2 && y > h / 3 ? 90 : 0));
  return d;
}

function maxDifference(a: Uint16Array, b: Uint16Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('TIFF with JPEG strips', () => {
  const w = 203;
  const h = 150;
  const grey = film(w, h);

  it('grey: the same pixels as libtiff decompresses, every strip in place, the resolution as spacing', async () => {
    writeFileSync(
      path.join(dir, 'grey.tif'),
      writeTiff([{ width: w, height: h, bits: 8, data: grey, resolution: [254, 254, 2] }]),
    );
    const jpeg = libtiff('tiffcp', ['-c', 'jpeg:90', '-r', '16', 'grey.tif', 'grey-jpeg.tif'], 'grey-jpeg.tif');
    const plain = libtiff('tiffcp', ['-c', 'none', 'grey-jpeg.tif', 'grey-back.tif'], 'grey-back.tif');
    const opened = await decodeImageFile('grey-jpeg.tif', jpeg);
    const reference = await decodeImageFile('grey-back.tif', plain);
    expect(opened.info).toMatchObject({
      format: 'tiff',
      width: w,
      height: h,
      bitsStored: 8,
      photometric: 'MONOCHROME2',
    });
    expect(opened.info.spacing).toMatchObject({ rowMm: 0.1, colMm: 0.1 });
    expect(opened.pixels.data.length).toBe(w * h);
    expect(maxDifference(opened.pixels.data, reference.pixels.data)).toBe(0);
    // And close to what was written (a lossy copy): the strips are not shifted or swapped.
    expect(
      maxDifference(
        opened.pixels.data,
        Uint16Array.from(grey, (v) => v * 257),
      ),
    ).toBeLessThan(12 * 257);
  });

  it('YCbCr (a colour scan): the luma, within a grey level of libtiff decompressing it to RGB', async () => {
    // Colour: a reddish tint that the luma must not keep as grey.
    const ppm = Buffer.concat([
      Buffer.from(`P6\n${w} ${h}\n255\n`),
      Buffer.from(
        Uint8Array.from({ length: w * h * 3 }, (_, i) =>
          Math.min(255, grey[Math.floor(i / 3)]! + (i % 3 === 0 ? 30 : 0)),
        ),
      ),
    ]);
    writeFileSync(path.join(dir, 'colour.ppm'), ppm);
    libtiff('ppm2tiff', ['colour.ppm', 'colour.tif'], 'colour.tif');
    const jpeg = libtiff('tiffcp', ['-c', 'jpeg:90', '-r', '32', 'colour.tif', 'ycbcr.tif'], 'ycbcr.tif');
    const rgb = libtiff('tiffcp', ['-c', 'none', 'ycbcr.tif', 'rgb-back.tif'], 'rgb-back.tif');
    const opened = await decodeImageFile('ycbcr.tif', jpeg);
    const reference = await decodeImageFile('rgb-back.tif', rgb); // RGB read as its luma
    expect(opened.info).toMatchObject({ width: w, height: h, photometric: 'YBR_FULL' });
    expect(maxDifference(opened.pixels.data, reference.pixels.data)).toBeLessThanOrEqual(2 * 257);
  });

  it('says which strip is damaged', async () => {
    writeFileSync(path.join(dir, 'small.tif'), writeTiff([{ width: w, height: h, bits: 8, data: grey }]));
    const jpeg = Buffer.from(
      libtiff('tiffcp', ['-c', 'jpeg', '-r', '64', 'small.tif', 'small-jpeg.tif'], 'small-jpeg.tif'),
    );
    // The second strip's start (its SOI) overwritten: StripOffsets' second value, little-endian LONGs.
    const count = jpeg.readUInt16LE(jpeg.readUInt32LE(4));
    let second = -1;
    for (let k = 0; k < count; k++) {
      const e = jpeg.readUInt32LE(4) + 2 + k * 12;
      if (jpeg.readUInt16LE(e) === 273) second = jpeg.readUInt32LE(jpeg.readUInt32LE(e + 8) + 4);
    }
    expect(second).toBeGreaterThan(0);
    jpeg.fill(0, second, second + 2);
    await expect(decodeImageFile('damaged.tif', jpeg)).rejects.toThrow(
      /damaged\.tif: TIFF strip 1 is not a JPEG stream/,
    );
  });

  it.skipIf(!HAS_SHARED_DATA || !HAS_MODEL)(
    'ISBI 001 as a JPEG-compressed TIFF: the landmarks of the JPEG',
    async () => {
      const original = await decodeImageFile('001.jpg', readFileSync(sharedPath('isbi2015', 'images', '001.jpg')));
      const data = Uint8Array.from(original.pixels.data, (v) => v >> 8);
      const { width, height } = original.pixels;
      writeFileSync(
        path.join(dir, '001.tif'),
        writeTiff([{ width, height, bits: 8, data, resolution: [254, 254, 2] }]),
      );
      const jpeg = libtiff('tiffcp', ['-c', 'jpeg:90', '-r', '16', '001.tif', '001-jpeg.tif'], '001-jpeg.tif');
      const opened = await decodeImageFile('001-jpeg.tif', jpeg);
      expect(opened.info.spacing).toMatchObject({ rowMm: 0.1, colMm: 0.1 });
      const engine = await InferenceEngine.start({ model: verifyModel(MODEL), providers: ['cpu'] });
      try {
        const a = await analyzeOpened(engine, original, { spacing: enteredSpacing(0.1, 'test') });
        const b = await analyzeOpened(engine, opened, {});
        expect(b.prediction.quality.verdict).toBe(a.prediction.quality.verdict);
        const moved = a.prediction.landmarks.map((p, i) => {
          const q = b.prediction.landmarks[i];
          return q ? Math.hypot(p.x - q.x, p.y - q.y) * 0.1 : Number.POSITIVE_INFINITY;
        });
        expect(Math.max(...moved)).toBeLessThan(0.1);
      } finally {
        await engine.close();
      }
    },
    60_000,
  );
});

describe('tiled TIFF', () => {
  // Tiles that do not divide the image: the right and bottom tiles are padded in the file.
  const w = 203;
  const h = 150;
  const grey8 = film(w, h);
  const grey16 = Uint16Array.from(grey8, (v, i) => v * 13 + (i % 7)); // 12-bit data with fine detail
  const cases: [string, 8 | 16, string][] = [
    ['8-bit, uncompressed', 8, 'none'],
    ['8-bit, LZW with the horizontal predictor', 8, 'lzw:2'],
    ['8-bit, Deflate with the horizontal predictor', 8, 'zip:2'],
    ['8-bit, PackBits', 8, 'packbits'],
    ['8-bit, JPEG', 8, 'jpeg:90'],
    ['16-bit, uncompressed', 16, 'none'],
    ['16-bit, LZW with the horizontal predictor', 16, 'lzw:2'],
    ['16-bit, Deflate with the horizontal predictor', 16, 'zip:2'],
  ];
  for (const [name, bits, compression] of cases) {
    it(`${name}: the pixels libtiff decompresses into strips`, async () => {
      const base = `tiles-${bits}-${compression.replace(':', '-')}`;
      const data = bits === 8 ? grey8 : grey16;
      writeFileSync(path.join(dir, `${base}.tif`), writeTiff([{ width: w, height: h, bits, data }]));
      const tiled = libtiff(
        'tiffcp',
        ['-c', compression, '-t', '-w', '48', '-l', '32', `${base}.tif`, `${base}-tiled.tif`],
        `${base}-tiled.tif`,
      );
      const strips = libtiff(
        'tiffcp',
        ['-c', 'none', '-s', `${base}-tiled.tif`, `${base}-back.tif`],
        `${base}-back.tif`,
      );
      const opened = await decodeImageFile(`${base}-tiled.tif`, tiled);
      const reference = await decodeImageFile(`${base}-back.tif`, strips);
      expect(opened.info).toMatchObject({ width: w, height: h, bitsStored: bits });
      expect(maxDifference(opened.pixels.data, reference.pixels.data)).toBe(0);
      if (!compression.startsWith('jpeg')) {
        const written = bits === 8 ? Uint16Array.from(grey8, (v) => v * 257) : grey16;
        expect(maxDifference(opened.pixels.data, written)).toBe(0);
      }
    });
  }

  it('says when the tiles do not cover the image', async () => {
    writeFileSync(path.join(dir, 'few.tif'), writeTiff([{ width: w, height: h, bits: 8, data: grey8 }]));
    const tiled = Buffer.from(
      libtiff('tiffcp', ['-t', '-w', '48', '-l', '32', 'few.tif', 'few-tiled.tif'], 'few-tiled.tif'),
    );
    // TileOffsets and TileByteCounts declared with one value fewer (little-endian IFD entries: tag, type, count).
    const ifd = tiled.readUInt32LE(4);
    for (let k = 0; k < tiled.readUInt16LE(ifd); k++) {
      const e = ifd + 2 + k * 12;
      const tag = tiled.readUInt16LE(e);
      if (tag === 324 || tag === 325) tiled.writeUInt32LE(tiled.readUInt32LE(e + 4) - 1, e + 4);
    }
    await expect(decodeImageFile('few.tif', tiled)).rejects.toThrow(/few\.tif: the TIFF has 24 tiles, 25 needed/);
  });
});

describe('BigTIFF', () => {
  const w = 203;
  const h = 150;
  const grey16 = Uint16Array.from(film(w, h), (v, i) => v * 13 + (i % 7));

  it.each([
    ['little-endian, LZW with the predictor, strips', ['-8', '-L', '-c', 'lzw:2']],
    ['big-endian, Deflate, tiles', ['-8', '-B', '-c', 'zip', '-t', '-w', '48', '-l', '32']],
  ])('%s: the pixels written, the resolution as spacing', async (name, args) => {
    const base = `big-${name.split(',')[0]}`;
    writeFileSync(
      path.join(dir, `${base}.tif`),
      writeTiff([{ width: w, height: h, bits: 16, data: grey16, resolution: [254, 254, 2] }]),
    );
    const big = libtiff('tiffcp', [...args, `${base}.tif`, `${base}-big.tif`], `${base}-big.tif`);
    expect(new DataView(big.buffer, big.byteOffset).getUint16(2, big[0] === 0x49)).toBe(43); // BigTIFF's version
    const opened = await decodeImageFile(`${base}-big.tif`, big);
    expect(opened.info).toMatchObject({ format: 'tiff', width: w, height: h, bitsStored: 16 });
    expect(opened.info.spacing).toMatchObject({ rowMm: 0.1, colMm: 0.1 });
    expect(maxDifference(opened.pixels.data, grey16)).toBe(0);
  });
});
