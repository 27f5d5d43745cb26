/**
 * Cephalogram-like DICOM for PACS tests, made from the shared WG04 radiographs with dcmtk's dcmodify in a
 * temporary folder (never in the project): new study, series and instance UIDs, a head/lateral header, and
 * the patient and study date of the visit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encode } from 'fast-png';
import { sharedPath } from '../shared-data';

export const DCMTK_SKIP =
  existsSync('/usr/bin/dcmodify') && existsSync('/usr/bin/dsrdump') && existsSync('/usr/bin/dcmdump')
    ? ''
    : 'skipped: dcmtk (dcmodify, dsrdump, dcmdump) is not installed (apt-get install dcmtk)';

export interface Visit {
  readonly patientId: string;
  readonly patientName: string;
  readonly birthDate: string; // yyyymmdd
  readonly studyDate: string; // yyyymmdd
  /**
   * A shared WG04 file name, e.g. RG3_JLSL.dcm (not cephalograms: the analysis refuses them as such); without
   * one, a real lateral cephalogram (ISBI 001, wrapped by img2dcm) so that analysing the visit gives landmarks.
   */
  readonly source?: string;
  readonly bodyPart?: string;
  readonly view?: string;
  readonly issuer?: string;
}

let counter = 0;

/** Writes a new DICOM file for the visit and returns its bytes and path. */
export function makeVisit(
  visit: Visit,
  dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-visit-')),
): { file: string; bytes: Uint8Array } {
  const file = path.join(dir, `visit-${process.pid}-${++counter}.dcm`);
  if (visit.source) copyFileSync(sharedPath('dicom', 'wg04-cr', visit.source), file);
  else execFileSync('img2dcm', ['-q', sharedPath('isbi2015', 'images', '001.jpg'), file], { stdio: 'pipe' });
  // As the WG04 files: PatientSex M, a CR image (img2dcm writes a Secondary Capture).
  if (!visit.source)
    execFileSync('dcmodify', ['-nb', '-i', '(0010,0040)=M', '-m', '(0008,0016)=1.2.840.10008.5.1.4.1.1.1', file], {
      stdio: 'pipe',
    });
  const args = [
    '-nb',
    '-gst',
    '-gse',
    '-gin',
    '-i',
    '(0008,0060)=CR',
    '-i',
    `(0018,0015)=${visit.bodyPart ?? 'SKULL'}`,
    '-i',
    `(0018,5101)=${visit.view ?? 'LL'}`,
    '-m',
    `(0010,0020)=${visit.patientId}`,
    '-m',
    `(0010,0010)=${visit.patientName}`,
    '-i',
    `(0010,0030)=${visit.birthDate}`,
    '-m',
    `(0008,0020)=${visit.studyDate}`,
  ];
  if (visit.issuer) args.push('-i', `(0010,0021)=${visit.issuer}`);
  execFileSync('dcmodify', [...args, file], { stdio: 'pipe' });
  return { file, bytes: new Uint8Array(readFileSync(file)) };
}

/** dsrdump's text of an SR file (with codes), or dcmdump's of any file. */
export function dsrdump(file: string): { out: string; warnings: string } {
  const r = spawnSync('dsrdump', ['+Pc', '+Pl', '+Pu', '+Pt', '+U8', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dsrdump failed (${r.status}): ${r.stderr}`);
  return { out: r.stdout, warnings: r.stderr };
}
export function dcmdump(file: string): { out: string; warnings: string } {
  // A deflated file is inflated whole, so -M cannot keep its pixel data out: allow for a long dump.
  const r = spawnSync('dcmdump', ['+L', '+U8', '-M', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0)
    throw new Error(`dcmdump failed (${r.status}${r.error ? `, ${r.error.message}` : ''}): ${r.stderr}`);
  return { out: r.stdout, warnings: r.stderr };
}

/**
 * A page PNG as the app hands it over (RGBA, A4 at 150 dpi): white, with coloured bands and a grey ramp, so a
 * pixel-exact comparison of the Secondary Capture with it means something. Only the SC's wrapping is under
 * test with it; the real report page is drawn in Chromium (test/e2e/pacs.test.ts).
 */
export function testPagePng(width = 1240, height = 1754): Uint8Array {
  const data = new Uint8Array(width * height * 4).fill(255);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (y > 100 && y < 300) {
        data[i] = (x * 7) % 256;
        data[i + 1] = (y * 3) % 256;
        data[i + 2] = (x + y) % 256;
      } else if (y > 400 && y < 420) data.fill(Math.round((x / width) * 255), i, i + 3);
    }
  return encode({ width, height, data, channels: 4, depth: 8 });
}

/** dcmtk's rendering of a DICOM image (dcm2pnm, binary PPM/PGM): width, height, channels and 8-bit samples. */
export function dcm2pnm(file: string): { width: number; height: number; channels: number; data: Uint8Array } {
  const r = spawnSync('dcm2pnm', ['+op', file], { maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`dcm2pnm failed (${r.status}): ${r.stderr.toString()}`);
  const out = r.stdout;
  const m = /^(P[56])\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(out.subarray(0, 64).toString('latin1'));
  if (!m) throw new Error('dcm2pnm wrote no binary PGM/PPM');
  const [, magic, width, height] = m;
  return {
    width: Number(width),
    height: Number(height),
    channels: magic === 'P6' ? 3 : 1,
    data: new Uint8Array(out.subarray(m[0].length)),
  };
}
