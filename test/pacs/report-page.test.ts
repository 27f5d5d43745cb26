/**
 * The report page the app hands over, as the Secondary Capture's pixels: PNG files written here row by row with
 * each of the five PNG filters, in each colour type a canvas may write, decode to the same RGB as fast-png's
 * decoder gives (alpha composed on white); files that are no usable page are refused with the reason.
 */
import { deflateSync } from 'node:zlib';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { pagePixels } from '../../main/pacs/report-page';

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body, Buffer.alloc(4)]); // the CRC is not checked by either decoder
}

/** A PNG whose row y uses filter y % 5 (None, Sub, Up, Average, Paeth), the filtering done here. */
function png(
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  pixel: (x: number, y: number, c: number) => number,
  ihdr: Partial<{ depth: number; interlace: number }> = {},
): Buffer {
  const colourType = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const stride = width * channels;
  const plain = (y: number, i: number): number =>
    y < 0 || i < 0 ? 0 : pixel(Math.floor(i / channels), y, i % channels) & 0xff;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = y % 5;
    raw[y * (stride + 1)] = filter;
    for (let i = 0; i < stride; i++) {
      const left = plain(y, i - channels);
      const above = plain(y - 1, i);
      const corner = plain(y - 1, i - channels);
      const p = left + above - corner;
      const paeth =
        Math.abs(p - left) <= Math.abs(p - above) && Math.abs(p - left) <= Math.abs(p - corner)
          ? left
          : Math.abs(p - above) <= Math.abs(p - corner)
            ? above
            : corner;
      const predictor = [0, left, above, (left + above) >> 1, paeth][filter] ?? 0;
      raw[y * (stride + 1) + 1 + i] = (plain(y, i) - predictor) & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = ihdr.depth ?? 8;
  header[9] = colourType;
  header[12] = ihdr.interlace ?? 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** fast-png's reading of the same file, composed on white as a page is. */
function reference(file: Buffer): Uint8Array {
  const img = decode(file);
  const ch = img.channels;
  const out = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) {
    const a = ch === 2 || ch === 4 ? img.data[i * ch + ch - 1]! / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const v = img.data[i * ch + (ch >= 3 ? c : 0)]!;
      out[i * 3 + c] = a === 1 ? v : Math.round(v * a + 255 * (1 - a));
    }
  }
  return out;
}

const texture = (x: number, y: number, c: number): number => (x * 37 + y * 11 + c * 89 + ((x * y) % 23) * 7) % 256;

describe('the report page PNG as the Secondary Capture pixels', () => {
  for (const channels of [1, 2, 3, 4] as const) {
    it(`decodes ${['grey', 'grey + alpha', 'RGB', 'RGBA'][channels - 1]} rows with every filter exactly`, () => {
      // Alpha: opaque, clear and half, so composing on white is checked too.
      const pixel = (x: number, y: number, c: number): number =>
        (channels === 2 && c === 1) || (channels === 4 && c === 3) ? [255, 0, 128][(x + y) % 3]! : texture(x, y, c);
      const file = png(211, 203, channels, pixel);
      const page = pagePixels(file);
      expect([page.width, page.height]).toEqual([211, 203]);
      expect(Buffer.from(page.rgb).equals(Buffer.from(reference(file)))).toBe(true);
    });
  }

  it('refuses what is no usable page, saying why', () => {
    expect(() => pagePixels(new Uint8Array([1, 2, 3]))).toThrow(
      'The report page is not a usable PNG: no PNG signature.',
    );
    expect(() => pagePixels(png(300, 300, 3, texture, { depth: 16 }))).toThrow(
      'colour type 2 with 16-bit samples (8-bit grey, RGB or RGBA only)',
    );
    expect(() => pagePixels(png(300, 300, 4, texture, { interlace: 1 }))).toThrow('it is interlaced');
    expect(() => pagePixels(png(120, 300, 4, texture))).toThrow(
      'it is 120 x 300 pixels (a page is 200 to 5000 on each side)',
    );
    const cut = png(300, 300, 4, texture);
    expect(() => pagePixels(cut.subarray(0, cut.length - 40))).toThrow(/chunk is cut short/);
  });
});
