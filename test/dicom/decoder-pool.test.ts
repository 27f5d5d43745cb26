import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DecoderPool } from '../../main/dicom/decoder-pool';
import { decodeImageFile, ImageDecodeError } from '../../main/dicom/index';
import { REPO_ROOT } from '../shared-data';

const fixtures = path.join(REPO_ROOT, 'test', 'fixtures', 'dicom');
const pool = new DecoderPool();
afterAll(() => pool.close());

describe('decoding in a worker thread', () => {
  it('gives the same image as decoding in place', async () => {
    const name = 'syntax-j2k-lossless.dcm';
    const bytes = readFileSync(path.join(fixtures, name));
    const [inWorker, inPlace] = await Promise.all([pool.decode(name, bytes), decodeImageFile(name, bytes)]);
    expect(inWorker.info).toEqual(inPlace.info);
    expect(inWorker.pixels.data).toEqual(inPlace.pixels.data);
  });

  it('passes the decoder error through with its code and message', async () => {
    const error = await pool
      .decode('notes.txt', new TextEncoder().encode('not an image at all'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageDecodeError);
    const direct = await decodeImageFile('notes.txt', new TextEncoder().encode('not an image at all')).catch(
      (e: unknown) => e as ImageDecodeError,
    );
    expect((error as ImageDecodeError).code).toBe((direct as ImageDecodeError).code);
    expect((error as ImageDecodeError).message).toBe((direct as ImageDecodeError).message);
  });

  it('answers several requests in flight, each with its own image', async () => {
    const name = 'syntax-j2k-lossless.dcm';
    const bytes = readFileSync(path.join(fixtures, name));
    const results = await Promise.all([1, 2, 3].map((i) => pool.decode(`${i}-${name}`, bytes)));
    expect(results.map((r) => r.info.fileName)).toEqual([1, 2, 3].map((i) => `${i}-${name}`));
  });
});
