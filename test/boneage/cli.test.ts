/**
 * `cvm boneage` and `cvm eval --boneage` run as a user runs them: real processes, the shipped models, real
 * hand and cephalogram files; sex from DICOM PatientSex, from --sex, or a clear refusal.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../main/dicom/index';
import { el } from '../../main/dicom/writer';
import { grey8Dicom } from '../dicom/helpers';
import { cephalogramOnCanvasDicom } from '../misjudged-cephalogram';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const run = promisify(execFile);
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(REPO_ROOT, 'main', 'cli', 'index.ts');

async function cvm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const HAND = HAS_SHARED_DATA ? sharedPath('boneage', 'rsna-sample', '7035.png') : '';
const CEPH = HAS_SHARED_DATA ? sharedPath('isbi2015', 'images', '001.jpg') : '';

/** The PNG hand's pixels as an 8-bit DICOM of a girl born 2015-03-01, imaged 2022-01-15 (6 y 10 mo). */
async function dicomHand(dir: string): Promise<string> {
  const png = await decodeImageFile('7035.png', readFileSync(HAND));
  const { width, height, data } = png.pixels;
  const bytes = Uint8Array.from(data, (v) => v);
  const file = path.join(dir, 'hand.dcm');
  const header = [
    el(0x0008, 0x0018, 'UI', '1.2.826.0.1.3680043.10.3.77'),
    el(0x0008, 0x0020, 'DA', '20220115'),
    el(0x0008, 0x0060, 'CS', 'CR'),
    el(0x0010, 0x0020, 'LO', 'HAND-1'),
    el(0x0010, 0x0030, 'DA', '20150301'),
    el(0x0010, 0x0040, 'CS', 'F'),
  ];
  writeFileSync(file, grey8Dicom(header, bytes, width, height));
  return file;
}

describe.skipIf(!HAS_SHARED_DATA)('cvm boneage', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-boneage-cli-'));
  });

  it('takes the sex from DICOM PatientSex and compares with the chronological age', async () => {
    const file = await dicomHand(dir);
    const { code, stdout } = await cvm('boneage', file, '--json');
    expect(code).toBe(0);
    const r = JSON.parse(stdout.trim().split('\n')[0]!);
    expect(r).toMatchObject({ type: 'result', sex: 'F', sexSource: 'DICOM PatientSex', kind: { kind: 'hand' } });
    expect(r.chronologicalAgeYears).toBeCloseTo(6.87, 1);
    expect(r.comparison.differenceMonths).toBeCloseTo(r.boneAge.months - r.chronologicalAgeYears * 12, 6);
    expect(r.comparison.reference).toMatch(/Greulich-Pyle/);
  });

  it('prints years and months, the interval, and the model', async () => {
    const { code, stdout } = await cvm('boneage', HAND, '--sex', 'female');
    expect(code).toBe(0);
    expect(stdout).toMatch(/bone age\s+\d+ y \d+ mo \(\d+\.\d months\); 90% interval \d+ y \d+ mo - \d+ y \d+ mo/);
    expect(stdout).toMatch(/sex\s+female \(--sex\)/);
    expect(stdout).toMatch(/chron\. age\s+unknown/);
    expect(stdout).toMatch(/model\s+boneage-rsna100/);
  });

  it('refuses a file without PatientSex when --sex is not given, and a cephalogram', async () => {
    const { code, stdout } = await cvm('boneage', HAND, CEPH);
    expect(code).toBe(1);
    expect(stdout).toMatch(/7035\.png\n\s+refused\s+the patient's sex is unknown .*give --sex male or --sex female/);
    expect(stdout).toMatch(/001\.jpg\n\s+refused\s+not a hand radiograph: recognised as cephalogram/);
  });

  it('gives no bone age to a cephalogram the kind model takes for a hand: the landmark model finds its column', async () => {
    const file = path.join(dir, 'canvas.dcm');
    writeFileSync(file, await cephalogramOnCanvasDicom());
    const { code, stdout } = await cvm('boneage', file, HAND, '--sex', 'female', '--json');
    expect(code).toBe(1);
    const [canvas, hand] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; error?: string });
    expect(canvas).toMatchObject({
      type: 'error',
      error: expect.stringMatching(
        /took it for a hand-wrist radiograph \(P hand \d+%\), but the landmark model found a plausible C2-C4 column/,
      ),
    });
    expect(hand).toMatchObject({ type: 'result', kind: { kind: 'hand' } });
  });

  it('cvm analyze gives a hand no vertebral landmarks', async () => {
    const { code, stdout } = await cvm('analyze', HAND);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /7035\.png\n\s+error\s+a hand-wrist radiograph \(P hand 0\.\d\d\): no vertebral landmarks; use cvm boneage/,
    );
    expect(stdout).not.toMatch(/C2p/);
  });

  it('rejects a wrong --sex value with the usage', async () => {
    const { code, stderr } = await cvm('boneage', HAND, '--sex', 'x');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--sex must be male or female, got "x"/);
  });

  it('cvm eval --boneage measures a labelled set by sex and age band', async () => {
    const { code, stdout } = await cvm(
      'eval',
      '--boneage',
      sharedPath('boneage', 'rsna-sample', 'labels.csv'),
      '--json',
    );
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.all.cases).toBe(11);
    expect(r.male.cases + r.female.cases).toBe(11);
    expect(Object.keys(r.byAgeBand)).toEqual(['0-60 months', '60-120 months', '120-180 months', '180-228 months']);
    expect(r.all.maeMonths).toBeGreaterThan(0);
    expect(r.notRecognisedAsHand).toEqual([]);
    expect(r.crossValidated.protocol).toMatch(/out-of-fold/);
  });
});
