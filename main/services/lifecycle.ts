/** Start and stop of the long-lived parts behind the services: the database, the decoder and the model worker. */
import { closeDecoderWorker } from '../dicom/decoder-pool';
import { closeInferenceEngines, engineFor } from './analysis';
import type { ServiceContext } from './context';
import { closeStudyStores } from './studies';
import { closeWholeImageModels } from './boneage';

/** Loads the default model in its worker ahead of the first analysis; a missing or refused model is reported later, when used. */
export function warmUp(ctx: ServiceContext): void {
  engineFor(ctx).catch(() => undefined);
}

/** Releases the data-folder lock and stops the workers, so a quit never leaves a stale lock behind. */
export async function shutDown(): Promise<void> {
  await Promise.allSettled([closeInferenceEngines(), closeDecoderWorker(), closeWholeImageModels()]);
  closeStudyStores();
}
