/** `cvm info` run as a user runs it: a real process, its output and exit code. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../shared-data';
import { FIXTURES } from './helpers';

const run = promisify(execFile);
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(REPO_ROOT, 'main', 'cli', 'index.ts');

async function cvmInfo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, 'info', ...args], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('cvm info', () => {
  it('--json reports size, frames, spacing and its source, syntax, metadata and windows', async () => {
    const { code, stdout } = await cvmInfo(path.join(FIXTURES, 'ips-magnification.dcm'), '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      file: 'ips-magnification.dcm',
      format: 'dicom',
      width: 64,
      height: 48,
      frames: 1,
      bitsStored: 12,
      photometric: 'MONOCHROME2',
      invertedFromMonochrome1: false,
      transferSyntax: { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian' },
      spacing: { source: 'ImagerPixelSpacing corrected by EstimatedRadiographicMagnificationFactor' },
      meta: { patientName: 'Doe, Jane', sex: 'F', ageYears: 11.5 },
    });
    expect(report.windows.map((w: { name: string }) => w.name)).toEqual([
      'FULL',
      'BONE',
      'Automatic (1st-99th percentile, central part)',
    ]);
  });

  it('a bad file exits 1 with the message naming the file and the problem', async () => {
    const { code, stderr } = await cvmInfo(path.join(FIXTURES, 'no-pixel-data.dcm'));
    expect(code).toBe(1);
    expect(stderr).toContain('cvm info: no-pixel-data.dcm: the file has no Pixel Data (7FE0,0010): it is not an image');
  });

  it('without --json prints a readable summary, uncalibrated files saying so', async () => {
    const { code, stdout } = await cvmInfo(path.join(FIXTURES, 'mono1.dcm'));
    expect(code).toBe(0);
    expect(stdout).toContain('mono1.dcm: DICOM 64x48, 1 frame(s), 12 bits, MONOCHROME1 (inverted for display)');
    expect(stdout).toContain('spacing: uncalibrated (measurements in px until calibrated)');
  });
});
