/**
 * Synthetic studies for the storage benchmark and tests: image metadata as a decoder would report it and
 * landmark sets of a known stage. They stand in for decoded files only where the file's pixels do not
 * matter (database size and speed); import tests use real files.
 */
import type { ImageInfo, PatientStudyMeta } from '../../../core/api/image';
import type { LandmarkPoints } from '../../../core/api/studies';

/** Concave C2-C4 lower borders, rectangular horizontal C3 and C4 bodies (CS4 with the default thresholds). */
const CS4_SHAPE: LandmarkPoints = {
  C2p: [100, 100],
  C2m: [130, 92],
  C2a: [160, 100],
  C3up: [100, 110],
  C3lp: [100, 150],
  C3m: [130, 142],
  C3la: [160, 150],
  C3ua: [160, 110],
  C4up: [100, 160],
  C4lp: [100, 200],
  C4m: [130, 192],
  C4la: [160, 200],
  C4ua: [160, 160],
};

/** Flat lower borders, trapezoid C3 and C4 bodies (CS1). */
const CS1_SHAPE: LandmarkPoints = {
  ...CS4_SHAPE,
  C2m: [130, 100],
  C3m: [130, 150],
  C4m: [130, 200],
  C3ua: [160, 125],
  C4ua: [160, 175],
};

/** A landmark set of the given shape, scaled and moved to (x0, y0) and nudged by `jitter` px per point. */
export function syntheticPoints(
  shape: 'CS1' | 'CS4',
  x0 = 800,
  y0 = 1700,
  scale = 4,
  jitter: () => number = () => 0,
): LandmarkPoints {
  const base = shape === 'CS1' ? CS1_SHAPE : CS4_SHAPE;
  const out: Record<string, [number, number]> = {};
  for (const [name, p] of Object.entries(base)) {
    out[name] = [x0 + (p[0] - 100) * scale + jitter(), y0 + (p[1] - 100) * scale + jitter()];
  }
  return out as LandmarkPoints;
}

const FIRST = ['Anna', 'Ben', 'Carla', 'David', 'Eva', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas'];
const LAST = ['Meier', 'Schmidt', 'Keller', 'Weber', 'Fischer', 'Huber', 'Wagner', 'Becker', 'Schulz', 'Hofmann'];

/** Metadata of a synthetic DICOM study number `i` (patients repeat every 3 studies, as in follow-ups). */
export function syntheticInfo(i: number): ImageInfo {
  const patient = Math.floor(i / 3);
  const year = 2015 + (i % 10);
  const meta: PatientStudyMeta = {
    patientName: `${LAST[patient % LAST.length]}^${FIRST[Math.floor(patient / LAST.length) % FIRST.length]}^${patient}`,
    patientId: `P${String(patient).padStart(6, '0')}`,
    sex: patient % 2 === 0 ? 'F' : 'M',
    birthDate: `${year - 12}-0${1 + (i % 9)}-15`,
    studyDate: `${year}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
    studyDescription: 'Lateral cephalogram',
    studyInstanceUid: `1.2.826.0.1.3680043.10.999.${i}`,
    modality: 'DX',
    manufacturer: null,
    manufacturerModel: null,
    institution: null,
    ageYears: 8 + (i % 9) + 0.5,
  };
  return {
    fileName: `ceph-${i}.dcm`,
    format: 'dicom',
    width: 1935,
    height: 2400,
    frames: 1,
    spacing: { rowMm: 0.1, colMm: 0.1, source: 'PixelSpacing', detail: 'PixelSpacing 0.1 mm' },
    bitsStored: 12,
    photometric: 'MONOCHROME2',
    invertedFromMonochrome1: false,
    transferSyntax: { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian' },
    meta,
  };
}
