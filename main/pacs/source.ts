/** The identity of a stored DICOM image and the patient/study attributes a derived object must repeat. */
import { parseDicomBytes } from '../dicom/parse';
import { textReader } from '../dicom/text';

export interface SourceImage {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly rows: number;
  readonly columns: number;
  /** Patient and general-study attributes as decoded text (written back as UTF-8). */
  readonly patientName: string | null;
  readonly patientId: string | null;
  readonly issuerOfPatientId: string | null;
  readonly birthDate: string | null;
  readonly sex: string | null;
  readonly studyDate: string | null;
  readonly studyTime: string | null;
  readonly studyId: string | null;
  readonly accessionNumber: string | null;
  readonly referringPhysicianName: string | null;
  readonly studyDescription: string | null;
  readonly modality: string | null;
  readonly bodyPart: string | null;
  readonly viewPosition: string | null;
  readonly seriesDescription: string | null;
  readonly imageType: string | null;
}

export class NotDicomSourceError extends Error {}

/** Reads the attributes from a Part 10 file; throws when the image lacks the UIDs a reference needs. */
export function readSourceImage(fileName: string, bytes: Uint8Array): SourceImage {
  const { dataSet } = parseDicomBytes(fileName, bytes);
  const text = textReader(dataSet);
  const uid = (tag: string): string | null => dataSet.string(tag)?.replace(/\0/g, '').trim() || null;
  const need = (tag: string, name: string): string => {
    const v = uid(tag);
    if (!v) throw new NotDicomSourceError(`${fileName} has no ${name}; a DICOM result cannot reference it.`);
    return v;
  };
  return {
    sopClassUid: need('x00080016', 'SOP Class UID'),
    sopInstanceUid: need('x00080018', 'SOP Instance UID'),
    seriesInstanceUid: need('x0020000e', 'Series Instance UID'),
    studyInstanceUid: need('x0020000d', 'Study Instance UID'),
    rows: dataSet.uint16('x00280010') ?? 0,
    columns: dataSet.uint16('x00280011') ?? 0,
    patientName: text.text('x00100010'),
    patientId: text.text('x00100020'),
    issuerOfPatientId: text.text('x00100021'),
    birthDate: text.text('x00100030'),
    sex: text.text('x00100040'),
    studyDate: text.text('x00080020'),
    studyTime: text.text('x00080030'),
    studyId: text.text('x00200010'),
    accessionNumber: text.text('x00080050'),
    referringPhysicianName: text.text('x00080090'),
    studyDescription: text.text('x00081030'),
    modality: text.text('x00080060'),
    bodyPart: text.text('x00180015'),
    viewPosition: text.text('x00185101'),
    seriesDescription: text.text('x0008103e'),
    imageType: text.text('x00080008'),
  };
}
