/** Where the staging model's parameter file and manifest live in the repository (fit script, eval, tests). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAGE_MODEL_ID } from '../../core/cvm/model';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const STAGE_PARAMS_PATH = path.join(REPO, 'core', 'cvm', 'params', `${STAGE_MODEL_ID}.json`);

export function stageManifestPath(id: string = STAGE_MODEL_ID): string {
  return path.join(REPO, 'models', 'staging', id, 'manifest.json');
}
