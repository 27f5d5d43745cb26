/**
 * Cephalogram-like DICOM for PACS tests, made from the shared WG04 radiographs with dcmtk's dcmodify in a
 * temporary folder (never in the project): new study, series and instance UIDs, a head/lateral header, and
 * the patient and study date of the visit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  const r = spawnSync('dcmdump', ['+L', '+U8', '-M', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dcmdump failed (${r.status}): ${r.stderr}`);
  return { out: r.stdout, warnings: r.stderr };
}
