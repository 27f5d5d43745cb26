/**
 * Hostile image files, each made here: every decompression bomb of the probe in issue 16 is refused from its
 * header in well under a second and without allocating its claimed size; damaged files are refused or open
 * with a visible warning, never silently.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { OpenedImage } from '../../core/api/image';
import { DecoderPool } from '../../main/dicom/decoder-pool';
import { decodeImageFile, ImageDecodeError } from '../../main/dicom/index';
import { MAX_PIXELS, MAX_SIDE } from '../../main/dicom/limits';
import { nativeEncode } from '../../main/dicom/native-codecs';
import { el } from '../../main/dicom/writer';
import {
  dicomDeflateBomb,
  dicomHeaderBomb,
  dicomJ2kBomb,
  dicomJpegBomb,
  greyPng,
  jpegHeaderBomb,
  pngDataBomb,
  pngHeaderBomb,
  smallDicom,
  tiffHeaderBomb,
} from './bombs';

/** Runs a decode, measuring time and how far the process's memory grew. */
async function measured(
  fn: () => Promise<unknown>,
): Promise<{ ms: number; grewMb: number; error: ImageDecodeError | null; value: unknown }> {
  const before = process.memoryUsage();
  let peak = before.rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const start = performance.now();
  let error: ImageDecodeError | null = null;
  let value: unknown = null;
  try {
    value = await fn();
  } catch (e) {
    if (!(e instanceof ImageDecodeError)) throw e;
    error = e;
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms: performance.now() - start, grewMb: (peak - before.rss) / 2 ** 20, error, value };
}

const LIMIT_TEXT = new RegExp(`the limit is ${MAX_PIXELS / 1e6} megapixels and ${MAX_SIDE} pixels a side`);

describe('decompression bombs are refused from their headers, fast and without allocating', () => {
  const cases: Array<[string, () => Uint8Array | Promise<Uint8Array>, RegExp]> = [
    [
      'a 1 KB JPEG that declares 30000 x 30000',
      () => jpegHeaderBomb(30_000, 30_000),
      /image is 30000 x 30000 pixels \(the JPEG header\)/,
    ],
    [
      'a JPEG that declares 25000 x 1000 (one side too long)',
      () => jpegHeaderBomb(25_000, 1000),
      /image is 25000 x 1000 pixels/,
    ],
    ['a PNG that declares 60000 x 60000 at 1 bit', pngHeaderBomb, /image is 60000 x 60000 pixels \(the PNG header\)/],
    [
      'a PNG of 1000 x 1000 whose data inflates to 64 MB',
      pngDataBomb,
      /inflates to more than the 1000 x 1000 pixels its header declares/,
    ],
    ['a DICOM with Rows and Columns 65535', dicomHeaderBomb, /image is 65535 x 65535 pixels \(Rows and Columns\)/],
    [
      'a JPEG 2000 DICOM whose codestream declares 30000 x 30000',
      dicomJ2kBomb,
      /image is 30000 x 30000 pixels \(the JPEG 2000 .* frame header\)/,
    ],
    [
      'a JPEG DICOM whose codestream declares 30000 x 30000',
      dicomJpegBomb,
      /image is 30000 x 30000 pixels \(the JPEG .* frame header\)/,
    ],
    [
      'a TIFF that declares 30000 x 30000',
      () => tiffHeaderBomb(30_000, 30_000),
      /the TIFF declares 30000x30000 pixels/,
    ],
    [
      'a TIFF that declares 25000 x 1000 (one side too long)',
      () => tiffHeaderBomb(25_000, 1000),
      /image is 25000 x 1000 pixels \(the TIFF header\)/,
    ],
    [
      'a deflated DICOM that inflates to 300 MB',
      () => dicomDeflateBomb(300),
      /inflates to more than 256 MB, the limit/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(name, async () => {
      const bytes = await make();
      const r = await measured(() => decodeImageFile('bomb', bytes));
      expect(r.error, `${name} was decoded`).not.toBeNull();
      expect(r.error!.message).toMatch(message);
      if (!/inflates|TIFF declares/.test(message.source)) expect(r.error!.message).toMatch(LIMIT_TEXT);
      expect(r.error!.code).toMatch(/unsupported|corrupt-file/);
      // The deflate bomb is inflated up to the limit, stopping there; the others allocate nothing of note. The
      // time bound only catches a decode that runs on (a 30000^2 bomb takes minutes), not speed.
      expect(r.ms).toBeLessThan(/deflate/.test(name) ? 30_000 : 10_000);
      expect(r.grewMb).toBeLessThan(/deflate/.test(name) ? 400 : 150);
    });
  }
});

async function jpeg(width: number, height: number): Promise<Buffer> {
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = ((i % width) * 3 + Math.floor(i / width) * 5) & 0xff;
  return Buffer.from(
    await nativeEncode(
      'EncodeJpeg',
      grey,
      {
        width,
        height,
        bitsAllocated: 8,
        bitsStored: 8,
        samplesPerPixel: 1,
        pixelRepresentation: 0,
        planarConfiguration: 0,
        photometric: 'MONOCHROME2',
      },
      { lossy: true, quality: 90 },
    ),
  );
}

const warningsOf = (value: unknown): readonly string[] => (value as OpenedImage).info.warnings ?? [];

describe('damaged files are refused or opened with a visible warning, never silently', () => {
  it('a JPEG truncated to 30% opens with a warning that it is damaged', async () => {
    const whole = await jpeg(512, 512);
    expect(warningsOf(await decodeImageFile('whole.jpg', whole))).toEqual([]);
    const r = await measured(() => decodeImageFile('cut.jpg', whole.subarray(0, Math.floor(whole.length * 0.3))));
    expect(r.error).toBeNull();
    expect(warningsOf(r.value).join('\n')).toMatch(
      /^cut\.jpg: the JPEG data is damaged .*(end-of-image marker|premature end)/i,
    );
  });

  it('a JPEG with 20 corrupt markers opens with a warning naming them', async () => {
    const bytes = Buffer.from(await jpeg(512, 512));
    const scanStart = bytes.indexOf(Buffer.from([0xff, 0xda])) + 20;
    for (let k = 0; k < 20; k++) {
      const i = scanStart + k * Math.floor((bytes.length - scanStart - 10) / 20);
      bytes[i] = 0xff;
      bytes[i + 1] = 0xd0 + (k % 8);
    }
    const image = await decodeImageFile('markers.jpg', bytes);
    expect(warningsOf(image).join('\n')).toMatch(/damaged.*(Corrupt JPEG data|Unexpected marker)/i);
  });

  it('a truncated PNG is refused with its own message', async () => {
    const whole = greyPng(300, 200);
    const error = (await measured(() => decodeImageFile('cut.png', whole.subarray(0, Math.floor(whole.length * 0.6)))))
      .error;
    expect(error?.message).toMatch(/^cut\.png: the PNG cannot be decoded|^cut\.png: the PNG data is truncated/);
  });

  it('invalid VR bytes give a warning that the file is damaged', async () => {
    const bytes = smallDicom([el(0x0009, 0x0010, 'ZZ', 'PRIVATE ')]);
    const image = await decodeImageFile('vr.dcm', bytes);
    expect(warningsOf(image).join('\n')).toMatch(
      /vr\.dcm: the file is damaged: 1 element\(s\) have an invalid value representation \(\(0009,0010\) "ZZ"\)/,
    );
  });

  it('a VOI LUT of 0 bits per entry is not applied, with a warning, and the pixels stay usable', async () => {
    const bytes = smallDicom([
      el(0x0028, 0x3010, 'SQ', [
        [el(0x0028, 0x3002, 'US', [4096, 0, 0]), el(0x0028, 0x3006, 'OW', new Array<number>(4096).fill(7))],
      ]),
    ]);
    const image = await decodeImageFile('voi0.dcm', bytes);
    expect(warningsOf(image).join('\n')).toMatch(/declares 0 bits per entry.*not applied/);
    expect(new Set(image.pixels.data).size).toBeGreaterThan(100);
    expect(image.pixels.windows.every((w) => Number.isFinite(w.center) && Number.isFinite(w.width))).toBe(true);
  });

  it('a pixel spacing of 1e308 leaves the image uncalibrated, with a warning', async () => {
    const image = await decodeImageFile('spacing.dcm', smallDicom([el(0x0028, 0x0030, 'DS', '1e308\\1e308')]));
    expect(image.info.spacing).toBeNull();
    expect(warningsOf(image).join('\n')).toMatch(/PixelSpacing \(0028,0030\) "1e308\\1e308" is implausible/);
  });

  it('a rescale slope and intercept of 1e308 are not used, with a warning, and the pixels stay usable', async () => {
    const image = await decodeImageFile(
      'rescale.dcm',
      smallDicom([el(0x0028, 0x1053, 'DS', '1e308'), el(0x0028, 0x1052, 'DS', '-1e308')]),
    );
    const text = warningsOf(image).join('\n');
    expect(text).toMatch(/Rescale Slope "1e308" is unusable; 1 was used/);
    expect(text).toMatch(/Rescale Intercept "-1e308" is unusable; 0 was used/);
    expect(Number.isFinite(image.pixels.modalitySlope) && Number.isFinite(image.pixels.modalityIntercept)).toBe(true);
    expect(new Set(image.pixels.data).size).toBeGreaterThan(100);
  });
});

describe('the decode worker', () => {
  const pool = new DecoderPool(1); // any heap is "too big": recycled after every request
  afterAll(() => pool.close());

  it('is replaced when its heap grows past the bound, and the next decode works', async () => {
    const png = greyPng(64, 64);
    const first = await pool.decode('a.png', png);
    expect(first.info.width).toBe(64);
    expect(pool.recycled).toBe(1);
    const second = await pool.decode('b.png', png);
    expect(second.pixels.data).toEqual(first.pixels.data);
    expect(pool.recycled).toBe(2);
  });

  it('answers a bomb with the refusal, not with a crash of the worker', async () => {
    await expect(pool.decode('bomb.jpg', jpegHeaderBomb(30_000, 30_000))).rejects.toThrow(
      /image is 30000 x 30000 pixels/,
    );
    expect((await pool.decode('ok.png', greyPng(32, 32))).info.height).toBe(32);
  });
});
