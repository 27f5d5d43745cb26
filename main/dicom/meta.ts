/** Patient and study attributes, decoded with the file's character set. */
import type { PatientStudyMeta } from '../../core/api/image';
import { ageInYears, dicomDateToIso } from '../../core/metadata/age';
import { readablePersonName, type TextReader } from './text';

function sexOf(value: string | null): PatientStudyMeta['sex'] {
  const v = value?.toUpperCase();
  return v === 'M' || v === 'F' || v === 'O' ? v : null;
}

export function readMeta(text: TextReader): PatientStudyMeta {
  const name = text.text('x00100010');
  const birthDate = dicomDateToIso(text.text('x00100030') ?? '');
  const studyDate =
    dicomDateToIso(text.text('x00080020') ?? '') ??
    dicomDateToIso(text.text('x00080022') ?? '') ??
    dicomDateToIso(text.text('x00080023') ?? '');
  const age = birthDate && studyDate ? ageInYears(birthDate, studyDate) : null;
  return {
    patientName: name ? readablePersonName(name) || null : null,
    patientId: text.text('x00100020'),
    sex: sexOf(text.text('x00100040')),
    birthDate,
    studyDate,
    studyDescription: text.text('x00081030'),
    studyInstanceUid: text.text('x0020000d'),
    modality: text.text('x00080060'),
    manufacturer: text.text('x00080070'),
    manufacturerModel: text.text('x00081090'),
    institution: text.text('x00080080'),
    ageYears: age === null ? null : Math.round(age * 100) / 100,
  };
}
