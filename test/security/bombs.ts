/** Hostile image files made in the test: decompression bombs of each format, truncated and damaged files. */
import { createDeflateRaw, crc32, deflateSync } from 'node:zlib';
import { el, encapsulatedPixelData, writeDicom, type DicomElement } from '../../main/dicom/writer';

function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A PNG whose header says width x height at `depth` bits grey, with `idat` as its compressed data. */
export function png(width: number, height: number, depth: number, idat: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = depth;
  header[9] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array()),
  ]);
}

/** 60000 x 60000 at 1 bit: the probe's 437 KB PNG that took 7.4 GB (here only the header matters). */
export function pngHeaderBomb(): Buffer {
  return png(60_000, 60_000, 1, deflateSync(Buffer.alloc(1 << 20)));
}

/** A modest header (1000 x 1000, 8 bit) over image data that inflates to 64 MB: a zip bomb inside the limits. */
export function pngDataBomb(): Buffer {
  return png(1000, 1000, 8, deflateSync(Buffer.alloc(64 << 20), { level: 9 }));
}

/** A valid grey PNG, `width` x `height`. */
export function greyPng(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = (x * 7 + y * 3) & 0xff;
  return png(width, height, 8, deflateSync(raw));
}

/** SOI, a frame header for width x height, EOI: the probe's 1.2 KB JPEG that took 3.5-6 GB. */
export function jpegHeaderBomb(width: number, height: number, components = 1): Buffer {
  const sof = [0xff, 0xc0, 0, 8 + 3 * components, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, components];
  for (let c = 0; c < components; c++) sof.push(c + 1, 0x11, 0);
  return Buffer.from([0xff, 0xd8, ...sof, 0xff, 0xd9]);
}

/** A JPEG 2000 codestream that declares width x height (SOC, SIZ, then nothing useful). */
export function j2kCodestream(width: number, height: number): Uint8Array {
  const siz = Buffer.alloc(2 + 38 + 3);
  siz.writeUInt16BE(41, 0); // Lsiz
  siz.writeUInt16BE(0, 2); // Rsiz
  siz.writeUInt32BE(width, 4);
  siz.writeUInt32BE(height, 8);
  siz.writeUInt32BE(0, 12);
  siz.writeUInt32BE(0, 16);
  siz.writeUInt32BE(width, 20);
  siz.writeUInt32BE(height, 24);
  siz.writeUInt32BE(0, 28);
  siz.writeUInt32BE(0, 32);
  siz.writeUInt16BE(1, 36); // Csiz
  siz[38] = 15;
  siz[39] = 1;
  siz[40] = 1;
  return Buffer.concat([Buffer.from([0xff, 0x4f, 0xff, 0x51]), siz, Buffer.from([0xff, 0xd9])]);
}

export function imageModule(rows: number, columns: number, extra: DicomElement[] = []): DicomElement[] {
  return [
    el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1.1'),
    el(0x0008, 0x0018, 'UI', '1.2.3.4.16'),
    el(0x0008, 0x0060, 'CS', 'DX'),
    el(0x0028, 0x0002, 'US', [1]),
    el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    el(0x0028, 0x0010, 'US', [rows]),
    el(0x0028, 0x0011, 'US', [columns]),
    el(0x0028, 0x0100, 'US', [16]),
    el(0x0028, 0x0101, 'US', [12]),
    el(0x0028, 0x0102, 'US', [11]),
    el(0x0028, 0x0103, 'US', [0]),
    ...extra,
  ];
}

/** A small valid DICOM (64 x 48, 12 bit) with extra elements. */
export function smallDicom(extra: DicomElement[] = []): Uint8Array {
  const values = Array.from({ length: 64 * 48 }, (_, i) => (i * 13) % 4096);
  return writeDicom([...imageModule(48, 64, extra), el(0x7fe0, 0x0010, 'OW', values)]);
}

/** Rows and Columns 65535: 8 GB of 16-bit pixels declared by a file of a few hundred bytes. */
export function dicomHeaderBomb(): Uint8Array {
  return writeDicom([...imageModule(65535, 65535), el(0x7fe0, 0x0010, 'OW', [0, 0])]);
}

/** A JPEG 2000 DICOM whose header says 512 x 512 but whose codestream says 30000 x 30000. */
export function dicomJ2kBomb(): Uint8Array {
  return writeDicom(imageModule(512, 512), {
    transferSyntaxUid: '1.2.840.10008.1.2.4.90',
    encapsulated: encapsulatedPixelData([j2kCodestream(30_000, 30_000)], false),
  });
}

/** A JPEG baseline DICOM whose codestream says 30000 x 30000. */
export function dicomJpegBomb(): Uint8Array {
  return writeDicom(imageModule(512, 512), {
    transferSyntaxUid: '1.2.840.10008.1.2.4.50',
    encapsulated: encapsulatedPixelData([jpegHeaderBomb(30_000, 30_000)], false),
  });
}

/** A deflated DICOM whose data set inflates to `inflatedMb` MB (the probe's 1 MB file that took 3.2 GB). */
export async function dicomDeflateBomb(inflatedMb = 520): Promise<Uint8Array> {
  const plain = writeDicom([...imageModule(100, 100)], { transferSyntaxUid: '1.2.840.10008.1.2.1.99' });
  const metaEnd = 132 + 12 + new DataView(plain.buffer, plain.byteOffset).getUint32(140, true);
  const z = createDeflateRaw({ level: 1 });
  const chunks: Buffer[] = [];
  z.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => z.on('end', resolve));
  z.write(plain.subarray(metaEnd));
  // Pixel Data, OW, undefined-length-sized: a huge explicit length followed by zeros.
  const header = Buffer.alloc(12);
  header.writeUInt16LE(0x7fe0, 0);
  header.writeUInt16LE(0x0010, 2);
  header.write('OW', 4, 'latin1');
  header.writeUInt32LE(inflatedMb << 20, 8);
  z.write(header);
  const mb = Buffer.alloc(1 << 20);
  for (let i = 0; i < inflatedMb; i++) z.write(mb);
  z.end();
  await ended;
  return Buffer.concat([plain.subarray(0, metaEnd), ...chunks]);
}

/** A little-endian TIFF whose only IFD declares width x height (nothing else). */
export function tiffHeaderBomb(width: number, height: number): Buffer {
  const b = Buffer.alloc(8 + 2 + 2 * 12 + 4);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(2, 8);
  const entry = (i: number, tag: number, value: number): void => {
    const o = 10 + i * 12;
    b.writeUInt16LE(tag, o);
    b.writeUInt16LE(4, o + 2);
    b.writeUInt32LE(1, o + 4);
    b.writeUInt32LE(value, o + 8);
  };
  entry(0, 256, width);
  entry(1, 257, height);
  return b;
}
