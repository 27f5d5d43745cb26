/** Start and stop of the long-lived parts behind the services: the database, the decoder and the model worker. */
import { closeDecoderWorker } from '../dicom/decoder-pool';
import { findModels, modelDirs } from '../inference/index';
import { closeInferenceEngines, engineFor } from './analysis';
import type { ServiceContext } from './context';
import { closeStudyStores } from './studies';

/**
 * Loads the default model in its worker ahead of the first analysis; a missing or refused model is reported
 * later, when used. Model folders that cannot be used (a broken link in <data>/models, a damaged manifest)
 * are logged as warnings now and never stop the start.
 */
export function warmUp(ctx: ServiceContext, log: (message: string) => void = () => {}): void {
  try {
    for (const r of findModels(modelDirs(ctx.dataDir)).refused) log(`warning: model folder skipped: ${r.reason}`);
  } catch (error) {
    log(`warning: the model folders cannot be listed (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    engineFor(ctx).catch(() => undefined);
  } catch (error) {
    log(`warning: no model is ready (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Releases the data-folder lock and stops the workers, so a quit never leaves a stale lock behind. */
export async function shutDown(): Promise<void> {
  await Promise.allSettled([closeInferenceEngines(), closeDecoderWorker()]);
  closeStudyStores();
}
