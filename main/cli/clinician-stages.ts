/**
 * Reads a cvm13 annotation file whose images carry clinicians' stages (`clinician_stage: {id: "CSn"}`, as in
 * ../shared/data/cvm900/cvm900_train.json) into training spines for the staging model, and says which images
 * could not be used and why. The same reader serves the fit script, `cvm eval` and the tests.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { trainingSpine, type TrainingSpine } from '../../core/cvm/fit';
import { CVM_STAGES, type CvmStage, type StagingError } from '../../core/cvm/types';
import { readAnnotationFile } from './commands/stage';

export interface ClinicianStagedFile {
  readonly file: string;
  readonly fileName: string;
  readonly sha256: string;
  /** Images with a clinician's stage whose landmarks could be measured, in id order. */
  readonly spines: readonly TrainingSpine[];
  /** Images with a clinician's stage whose landmarks could not be measured. */
  readonly unmeasurable: readonly { readonly id: string; readonly stage: CvmStage; readonly error: StagingError }[];
  /** Images of the file, with or without a stage. */
  readonly images: number;
}

/** Whether the parsed JSON carries clinicians' stages. */
export function hasClinicianStages(file: string): boolean {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { clinician_stage?: unknown };
    return typeof data.clinician_stage === 'object' && data.clinician_stage !== null;
  } catch {
    return false;
  }
}

export function readClinicianStagedFile(file: string): ClinicianStagedFile {
  const bytes = readFileSync(file);
  const raw = JSON.parse(bytes.toString('utf8')) as { clinician_stage?: Record<string, unknown> };
  const stages = raw.clinician_stage;
  if (typeof stages !== 'object' || stages === null) throw new Error(`${file} has no "clinician_stage" object`);
  const annotations = readAnnotationFile(file);
  const spines: TrainingSpine[] = [];
  const unmeasurable: { id: string; stage: CvmStage; error: StagingError }[] = [];
  for (const img of [...annotations.images].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const stage = stages[img.id];
    if (stage === undefined) continue;
    if (typeof stage !== 'string' || !(CVM_STAGES as readonly string[]).includes(stage)) {
      throw new Error(
        `${file}: clinician_stage of "${img.id}" is ${JSON.stringify(stage)}, expected one of ${CVM_STAGES.join(', ')}`,
      );
    }
    const result = trainingSpine(img.id, img.landmarks, annotations.spacing, CVM_STAGES.indexOf(stage as CvmStage));
    if ('code' in result) unmeasurable.push({ id: img.id, stage: stage as CvmStage, error: result });
    else spines.push(result);
  }
  return {
    file: path.resolve(file),
    fileName: path.basename(file),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    spines,
    unmeasurable,
    images: annotations.images.length,
  };
}
