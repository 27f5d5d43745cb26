/**
 * A small TIFF writer for tests: grey 8/16/32 bit (32: unsigned, signed or floating point), strips, uncompressed /
 * LZW / Deflate / PackBits, the horizontal predictor, resolution tags, several pages. Written from the TIFF 6.0
 * specification so the decoder is checked against an independent encoder.
 */
import { deflateSync } from 'node:zlib';

export interface TiffPage {
  readonly width: number;
  readonly height: number;
  readonly bits: 8 | 16 | 32;
  /** Grey values, row-major (32 bits: as sampleFormat says). */
  readonly data: Uint8Array | Uint16Array | Float32Array | Int32Array | Uint32Array;
  /** SampleFormat (339): 1 unsigned, 2 signed, 3 IEEE floating point; written only when given. */
  readonly sampleFormat?: 1 | 2 | 3;
  readonly compression?: 1 | 5 | 8 | 32773;
  readonly predictor?: 1 | 2;
  readonly rowsPerStrip?: number;
  readonly photometric?: 0 | 1 | 3;
  /** [x, y, unit] (unit 1 none, 2 inch, 3 cm). */
  readonly resolution?: readonly [number, number, 1 | 2 | 3];
  /** Extra or overriding tags (tag -> LONG values). */
  readonly extraTags?: ReadonlyMap<number, readonly number[]>;
}

export function lzwEncode(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  let width = 9;
  const put = (code: number): void => {
    acc = (acc << width) | code;
    nbits += width;
    while (nbits >= 8) {
      out.push((acc >>> (nbits - 8)) & 0xff);
      nbits -= 8;
    }
    acc &= (1 << nbits) - 1;
  };
  let dict = new Map<string, number>();
  let next = 258;
  put(256);
  let w = '';
  for (const byte of src) {
    const wc = w + String.fromCharCode(byte);
    if (w === '' || dict.has(wc) || wc.length === 1) {
      w = wc;
      continue;
    }
    put(w.length === 1 ? w.charCodeAt(0) : dict.get(w)!);
    dict.set(wc, next++);
    // libtiff's encoder widens once the next free code passes the largest the width holds (the decoder,
    // one entry behind, widens "one code early").
    if (next > (1 << width) - 1 && width < 12) width++;
    if (next >= 4093) {
      put(256);
      dict = new Map();
      next = 258;
      width = 9;
    }
    w = String.fromCharCode(byte);
  }
  if (w !== '') put(w.length === 1 ? w.charCodeAt(0) : dict.get(w)!);
  put(257);
  if (nbits > 0) out.push((acc << (8 - nbits)) & 0xff);
  return Uint8Array.from(out);
}

function packBits(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < src.length) {
    let run = 1;
    while (i + run < src.length && run < 128 && src[i + run] === src[i]) run++;
    if (run >= 2) {
      out.push(257 - run, src[i]!);
      i += run;
      continue;
    }
    let lit = 1;
    while (i + lit < src.length && lit < 128 && !(i + lit + 1 < src.length && src[i + lit] === src[i + lit + 1])) lit++;
    out.push(lit - 1, ...src.subarray(i, i + lit));
    i += lit;
  }
  return Uint8Array.from(out);
}

function stripBytes(page: TiffPage, y0: number, rows: number, little: boolean): Uint8Array {
  const bpp = page.bits / 8;
  const out = new Uint8Array(page.width * rows * bpp);
  const view = new DataView(out.buffer);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < page.width; x++) {
      let v = page.data[(y0 + y) * page.width + x]!;
      if (page.predictor === 2 && x > 0)
        v =
          (v - page.data[(y0 + y) * page.width + x - 1]! + (page.bits === 16 ? 65536 : 256)) %
          (page.bits === 16 ? 65536 : 256);
      const at = (y * page.width + x) * bpp;
      if (page.bits === 32) {
        if (page.sampleFormat === 3) view.setFloat32(at, v, little);
        else if (page.sampleFormat === 2) view.setInt32(at, v, little);
        else view.setUint32(at, v, little);
      } else if (page.bits === 16) view.setUint16(at, v, little);
      else out[at] = v;
    }
  }
  switch (page.compression ?? 1) {
    case 5:
      return lzwEncode(out);
    case 8:
      return new Uint8Array(deflateSync(out));
    case 32773:
      return packBits(out);
    default:
      return out;
  }
}

/** A TIFF file holding the pages in order (little- or big-endian). */
export function writeTiff(pages: readonly TiffPage[], little = true): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 8;
  const add = (b: Uint8Array): number => {
    const at = size;
    chunks.push(b);
    size += b.length;
    if (size % 2) {
      chunks.push(new Uint8Array(1));
      size++;
    }
    return at;
  };
  const header = new Uint8Array(8);
  const hv = new DataView(header.buffer);
  header[0] = header[1] = little ? 0x49 : 0x4d;
  hv.setUint16(2, 42, little);
  const ifdOffsets: number[] = [];
  const ifdPatches: { buf: DataView; at: number }[] = [];
  for (const page of pages) {
    const rowsPerStrip = page.rowsPerStrip ?? page.height;
    const offsets: number[] = [];
    const counts: number[] = [];
    for (let y = 0; y < page.height; y += rowsPerStrip) {
      const b = stripBytes(page, y, Math.min(rowsPerStrip, page.height - y), little);
      offsets.push(add(b));
      counts.push(b.length);
    }
    const rational = (v: number): Uint8Array => {
      const b = new Uint8Array(8);
      const d = new DataView(b.buffer);
      d.setUint32(0, Math.round(v * 1000), little);
      d.setUint32(4, 1000, little);
      return b;
    };
    const longs = (vals: readonly number[]): Uint8Array => {
      const b = new Uint8Array(4 * vals.length);
      const d = new DataView(b.buffer);
      vals.forEach((v, i) => d.setUint32(4 * i, v, little));
      return b;
    };
    const tags = new Map<number, { type: number; values: readonly number[]; at?: number }>();
    tags.set(256, { type: 4, values: [page.width] });
    tags.set(257, { type: 4, values: [page.height] });
    tags.set(258, { type: 3, values: [page.bits] });
    tags.set(259, { type: 3, values: [page.compression ?? 1] });
    tags.set(262, { type: 3, values: [page.photometric ?? 1] });
    tags.set(
      273,
      offsets.length === 1 ? { type: 4, values: offsets } : { type: 4, values: offsets, at: add(longs(offsets)) },
    );
    tags.set(277, { type: 3, values: [1] });
    tags.set(278, { type: 4, values: [rowsPerStrip] });
    if (page.sampleFormat) tags.set(339, { type: 3, values: [page.sampleFormat] });
    tags.set(
      279,
      counts.length === 1 ? { type: 4, values: counts } : { type: 4, values: counts, at: add(longs(counts)) },
    );
    if (page.resolution) {
      tags.set(282, { type: 5, values: [page.resolution[0]], at: add(rational(page.resolution[0])) });
      tags.set(283, { type: 5, values: [page.resolution[1]], at: add(rational(page.resolution[1])) });
      tags.set(296, { type: 3, values: [page.resolution[2]] });
    }
    if (page.predictor === 2) tags.set(317, { type: 3, values: [2] });
    for (const [tag, values] of page.extraTags ?? [])
      tags.set(tag, values.length === 1 ? { type: 4, values } : { type: 4, values, at: add(longs(values)) });
    const sorted = [...tags.entries()].sort((a, b) => a[0] - b[0]);
    const ifd = new Uint8Array(2 + 12 * sorted.length + 4);
    const iv = new DataView(ifd.buffer);
    iv.setUint16(0, sorted.length, little);
    sorted.forEach(([tag, t], k) => {
      const e = 2 + 12 * k;
      iv.setUint16(e, tag, little);
      iv.setUint16(e + 2, t.type, little);
      iv.setUint32(e + 4, t.values.length, little);
      if (t.at !== undefined) iv.setUint32(e + 8, t.at, little);
      else if (t.type === 3) iv.setUint16(e + 8, t.values[0]!, little);
      else iv.setUint32(e + 8, t.values[0]!, little);
    });
    ifdOffsets.push(add(ifd));
    ifdPatches.push({ buf: iv, at: 2 + 12 * sorted.length });
  }
  hv.setUint32(4, ifdOffsets[0]!, little);
  ifdPatches.forEach((p, i) => p.buf.setUint32(p.at, ifdOffsets[i + 1] ?? 0, little));
  const file = new Uint8Array(size);
  file.set(header, 0);
  let at = 8;
  for (const c of chunks) {
    file.set(c, at);
    at += c.length;
  }
  return file;
}
