// The V8 code cache of `cvm info`'s bundle (dist/cli/info.cjs.<size>-<seconds>.v8-cache, read by
// build/cli-info-launcher.cjs):
// made by running the command once, through that launcher, on a generated DICOM file that takes the command's
// usual path (a native 16-bit frame of more than 1 MB, streamed for its statistics), so that the cache holds the
// functions a real run compiles. Run by build/bundle-cli.mjs on the new bundle.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One explicit-VR little-endian element; `vr` decides the header's form. */
function element(group, elementNumber, vr, value) {
  const padded = value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
  const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(padded.length, 8);
  else header.writeUInt16LE(padded.length, 6);
  return Buffer.concat([header, padded]);
}

const text = (s) => Buffer.from(s, 'latin1');
const us = (n) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};

/** A 1024x640 16-bit MONOCHROME2 secondary capture with a gradient: 1.3 MB. */
function warmUpDicom() {
  const columns = 1024;
  const rows = 640;
  const pixels = Buffer.alloc(columns * rows * 2);
  for (let i = 0; i < columns * rows; i++) pixels.writeUInt16LE((i * 7) & 0xffff, i * 2);
  const sopClass = '1.2.840.10008.5.1.4.1.1.7';
  const instance = '2.25.1';
  const meta = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', text(sopClass)),
    element(0x0002, 0x0003, 'UI', text(instance)),
    element(0x0002, 0x0010, 'UI', text('1.2.840.10008.1.2.1')),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.length);
  return Buffer.concat([
    Buffer.alloc(128),
    text('DICM'),
    element(0x0002, 0x0000, 'UL', groupLength),
    meta,
    element(0x0008, 0x0016, 'UI', text(sopClass)),
    element(0x0008, 0x0018, 'UI', text(instance)),
    element(0x0008, 0x0060, 'CS', text('OT')),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', text('MONOCHROME2')),
    element(0x0028, 0x0010, 'US', us(rows)),
    element(0x0028, 0x0011, 'US', us(columns)),
    element(0x0028, 0x0030, 'DS', text('0.1\\0.1')),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(16)),
    element(0x0028, 0x0102, 'US', us(15)),
    element(0x0028, 0x0103, 'US', us(0)),
    element(0x7fe0, 0x0010, 'OW', pixels),
  ]);
}

/** Writes `<cliDir>/info.cjs.<size>-<seconds>.v8-cache`; throws when the command fails or no cache comes out. */
export function writeInfoCodeCache(cliDir) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-info-cache-'));
  try {
    const file = path.join(dir, 'warm-up.dcm');
    writeFileSync(file, warmUpDicom());
    const run = spawnSync(process.execPath, [path.join(cliDir, 'cvm-info.cjs'), 'info', file, '--json'], {
      env: { ...process.env, CVM_WRITE_INFO_CODE_CACHE: '1', NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`cvm info on the warm-up file failed: ${run.stderr || run.error}`);
    if (!readdirSync(cliDir).some((name) => name.endsWith('.v8-cache')))
      throw new Error('cvm info wrote no code cache');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
