/**
 * The whole-image models (radiograph kind, bone age) for image files outside the data folder (`cvm boneage`,
 * `cvm eval --boneage`): the shipped models and the data folder's own, as the app's bone-age service finds
 * them (./boneage.ts keeps one warm set per data folder; a command opens its own and closes it).
 */
import { modelDirs, openWholeImageModels, type WholeImageModels } from '../inference/index';

export { greyImageOf } from '../inference/index';
export type { BoneAgeResult, RadiographKindResult, WholeImageModels } from '../inference/index';

export function openWholeImageModelsFor(dataDir: string): WholeImageModels {
  return openWholeImageModels(modelDirs(dataDir));
}
