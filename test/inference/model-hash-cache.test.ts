/** Model files are hashed once per process, and again whenever a file changes (then a bad file is refused). */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSha256, verifyModel } from '../../main/inference/registry';
import { REPO_ROOT } from '../shared-data';

const TINY = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'tiny');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function copyOfTiny(): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cvm-model-')), 'tiny');
  dirs.push(path.dirname(dir));
  cpSync(TINY, dir, { recursive: true });
  return dir;
}

describe('model file hashes', () => {
  it('a file rewritten in place with one byte changed (same size) is hashed again and the model refused', () => {
    const dir = copyOfTiny();
    const model = verifyModel(dir);
    const file = model.files.locate;
    const before = fileSha256(file);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1]! ^= 0x01;
    writeFileSync(file, bytes);
    expect(fileSha256(file)).not.toBe(before);
    expect(() => verifyModel(dir)).toThrow(/does not match its manifest/);
  });

  it('an unchanged file gives the same hash as hashing its bytes', async () => {
    const dir = copyOfTiny();
    const file = verifyModel(dir).files.refine;
    const { createHash } = await import('node:crypto');
    expect(fileSha256(file)).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    expect(fileSha256(file)).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
  });
});
