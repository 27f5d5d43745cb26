/**
 * `cvm bench --only decode`: decodeImageFile medians
 * - for the real WG04 RG2 radiograph (1760x2140, 10-bit CR) in each syntax it comes in, and one ISBI JPEG
 *   cephalogram, from ../shared/data beside the checkout;
 * - for a 2000x2400 16-bit radiograph (RG2 resampled to that size and 16 bits, with its noise kept in the
 *   low bits) written at bench time in every transfer syntax the codec module can encode.
 */
import { median } from '../../../core/metrics/index';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { decodeImageFile, initNativeCodecs } from '../../dicom/index';
import { SHARED_DATA } from './paths';
import { nativeEncode, type EncodeOptions, type NativeEncoder } from '../../dicom/native-codecs';
import { el, encapsulatedPixelData, writeDicom, type DicomElement, type Encoding } from '../../dicom/writer';
import type { BenchFigure } from '../command';
import { greyImageModule, medianMs } from './measure';
import type { BenchArea } from './index';

const RG2 = (syntax: string) => path.join(SHARED_DATA, 'dicom', 'wg04-cr', `RG2_${syntax}.dcm`);
const WG04_SYNTAXES = ['UNC', 'RLE', 'JPLL', 'JPLY', 'JLSL', 'JLSN', 'J2KR', 'J2KI'];
const ISBI_JPEG = path.join(SHARED_DATA, 'isbi2015', 'images', '001.jpg');

const WIDTH = 2000;
const HEIGHT = 2400;

/** RG2 resampled (bilinear) to 2000x2400 and scaled to 16 bits, plus a deterministic +-32 noise. */
async function radiograph16(): Promise<Uint16Array> {
  const { pixels } = await decodeImageFile('RG2_UNC.dcm', await readFile(RG2('UNC')));
  const { width: w, height: h, data } = pixels;
  const out = new Uint16Array(WIDTH * HEIGHT);
  let seed = 7;
  for (let y = 0; y < HEIGHT; y++) {
    const sy = (y * (h - 1)) / (HEIGHT - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < WIDTH; x++) {
      const sx = (x * (w - 1)) / (WIDTH - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = sx - x0;
      /* eslint-disable @typescript-eslint/no-non-null-assertion -- x0, x1 < w and y0, y1 < h (clamped above), and
         data holds w x h values */
      const v =
        (data[y0 * w + x0]! * (1 - fx) + data[y0 * w + x1]! * fx) * (1 - fy) +
        (data[y1 * w + x0]! * (1 - fx) + data[y1 * w + x1]! * fx) * fy;
      /* eslint-enable @typescript-eslint/no-non-null-assertion */
      seed = (seed * 1103515245 + 12345) % 2147483648;
      out[y * WIDTH + x] = Math.max(0, Math.min(65535, Math.round(v + (seed / 2147483648 - 0.5) * 64)));
    }
  }
  return out;
}

function imageElements(bits: number): DicomElement[] {
  return [
    el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1.1'),
    el(0x0008, 0x0018, 'UI', '1.2.826.0.1.3680043.10.3.1'),
    ...greyImageModule(WIDTH, HEIGHT, bits),
  ];
}

interface BenchInput {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly note: string;
}

async function syntheticInputs(): Promise<BenchInput[]> {
  const image = await radiograph16();
  const le = new Uint8Array(image.buffer, image.byteOffset, image.byteLength);
  const be = new Uint8Array(le.length);
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- le holds 16-bit samples: an even number of bytes */
  for (let i = 0; i < le.length; i += 2) {
    be[i] = le[i + 1]!;
    be[i + 1] = le[i]!;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  const native = (encoding: Encoding, bytes: Uint8Array) =>
    writeDicom([...imageElements(16), el(0x7fe0, 0x0010, 'OW', bytes)], { encoding });
  const inputs: BenchInput[] = [
    { name: 'implicit VR little endian', bytes: native('implicit-le', le), note: '' },
    { name: 'explicit VR little endian', bytes: native('explicit-le', le), note: '' },
    { name: 'explicit VR big endian', bytes: native('explicit-be', be), note: '' },
  ];
  const toDeflate = writeDicom([...imageElements(16), el(0x7fe0, 0x0010, 'OW', le)], {
    transferSyntaxUid: '1.2.840.10008.1.2.1.99',
  });
  const metaEnd = 132 + 12 + new DataView(toDeflate.buffer, toDeflate.byteOffset).getUint32(140, true);
  const deflated = deflateRawSync(toDeflate.subarray(metaEnd));
  const withDeflate = new Uint8Array(metaEnd + deflated.length);
  withDeflate.set(toDeflate.subarray(0, metaEnd));
  withDeflate.set(deflated, metaEnd);
  inputs.push({ name: 'deflated explicit VR little endian', bytes: withDeflate, note: '' });

  const encoded: [string, string, NativeEncoder, number, EncodeOptions][] = [
    ['RLE lossless', '1.2.840.10008.1.2.5', 'EncodeRle', 16, {}],
    ['JPEG lossless SV1', '1.2.840.10008.1.2.4.70', 'EncodeJpeg', 16, {}],
    ['JPEG baseline (8-bit)', '1.2.840.10008.1.2.4.50', 'EncodeJpeg', 8, { lossy: true, quality: 90 }],
    ['JPEG-LS lossless', '1.2.840.10008.1.2.4.80', 'EncodeJpegLs', 16, {}],
    [
      'JPEG-LS near-lossless (NEAR 32)',
      '1.2.840.10008.1.2.4.81',
      'EncodeJpegLs',
      16,
      { lossy: true, allowedLossyError: 32 },
    ],
    ['JPEG 2000 lossless', '1.2.840.10008.1.2.4.90', 'EncodeJpeg2000', 16, {}],
    ['JPEG 2000 lossy (rate 20)', '1.2.840.10008.1.2.4.91', 'EncodeJpeg2000', 16, { lossy: true, rate: 20 }],
  ];
  for (const [name, uid, encoder, bits, options] of encoded) {
    const samples = bits === 8 ? Uint8Array.from(image, (v) => v >> 8) : le;
    const frame = await nativeEncode(
      encoder,
      samples,
      {
        width: WIDTH,
        height: HEIGHT,
        bitsAllocated: bits,
        bitsStored: bits,
        samplesPerPixel: 1,
        pixelRepresentation: 0,
        planarConfiguration: 0,
        photometric: 'MONOCHROME2',
      },
      options,
    );
    inputs.push({
      name,
      bytes: writeDicom(imageElements(bits), {
        transferSyntaxUid: uid,
        encapsulated: encapsulatedPixelData([frame], true),
      }),
      note: `${(frame.length / 1e6).toFixed(1)} MB compressed`,
    });
  }
  return inputs;
}

/**
 * Wall-clock median, plus the median CPU time of this process in the note: on a shared, busy machine the
 * CPU time is the better estimate of the wall time the same single-threaded decode takes on an idle one.
 */
async function measure(name: string, bytes: Uint8Array, runs: number, note: string): Promise<BenchFigure> {
  const first = await decodeImageFile(name, bytes); // warm-up, and the size for the note
  const cpuMs: number[] = [];
  const wall = await medianMs(runs, async () => {
    const start = process.cpuUsage();
    await decodeImageFile(name, bytes);
    const used = process.cpuUsage(start);
    cpuMs.push((used.user + used.system) / 1000);
  });
  const { info } = first;
  const what = `${info.width}x${info.height} ${info.bitsStored}-bit ${info.transferSyntax?.name ?? info.format.toUpperCase()}`;
  return {
    area: 'decode',
    name,
    medianMs: wall,
    runs,
    note: `CPU ${median(cpuMs).toFixed(0)} ms; ${what}${note ? `; ${note}` : ''}`,
  };
}

export const decodeBench: BenchArea = {
  area: 'decode',
  async run({ quick }) {
    if (!existsSync(RG2('UNC'))) {
      return [{ area: 'decode', name: 'no input', medianMs: Number.NaN, runs: 0, note: `${RG2('UNC')} is absent` }];
    }
    await initNativeCodecs();
    const runs = quick ? 3 : 7;
    const figures: BenchFigure[] = [];
    for (const input of await syntheticInputs()) {
      figures.push(await measure(`2000x2400 16-bit ${input.name}`, input.bytes, runs, input.note));
    }
    for (const syntax of WG04_SYNTAXES) {
      if (existsSync(RG2(syntax)))
        figures.push(await measure(`RG2_${syntax}.dcm`, await readFile(RG2(syntax)), runs, 'WG04'));
    }
    if (existsSync(ISBI_JPEG))
      figures.push(await measure('isbi2015 001.jpg', await readFile(ISBI_JPEG), runs, 'grey stored as RGB'));
    return figures;
  },
};
