/** Where the staging model's manifest lives in the repository (eval, the fit script, tests). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAGE_MODEL_ID } from '../../core/cvm/model';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function stageManifestPath(id: string = STAGE_MODEL_ID): string {
  return path.join(REPO, 'models', 'staging', id, 'manifest.json');
}
