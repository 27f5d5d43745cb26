/** Start and stop of the long-lived parts behind the services: the database, the decoder and the model worker. */
import { closeDecoderWorker } from '../dicom/decoder-pool';
import { findModels, modelDirs } from '../inference/index';
import { closeInferenceEngines, engineFor } from './analysis';
import type { PipelineImage } from '../inference/index';
import type { ServiceContext } from './context';
import { fail, ok, type Result } from '../../core/api/result';
import { stopPacsLoops } from './pacs';
import { closeStudyStores, storeFor } from './studies';
import { closeWholeImageModels } from './boneage';

/** A smooth 2000x2400 synthetic radiograph: runs every step of the pipeline at a typical size. */
function warmUpImage(): PipelineImage {
  const width = 2000;
  const height = 2400;
  const data = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = ((x * 7 + y * 13) % 4096) * 16;
  return { width, height, data, window: { center: 32768, width: 65536 } };
}

/**
 * Opens the data folder's database and takes its lock at start-up rather than on the first request, so a
 * second writer is refused before the user starts working.
 */
export function openDataFolder(ctx: ServiceContext): Result<{ dataDir: string }> {
  try {
    storeFor(ctx);
    return ok({ dataDir: ctx.dataDir });
  } catch (error) {
    return fail('storage', error instanceof Error ? error.message : String(error));
  }
}

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
    // One analysis of a synthetic image (the code of decoding and of stage 1, which finds no cephalogram in it),
    // then every network run twice (ONNX Runtime's first two runs of a session are the slow ones): the user's
    // first analysis then takes 140 ms in the worker instead of 180-200 ms (synthetic analysis alone) or 270 ms.
    engineFor(ctx)
      .then(async (engine) => {
        await engine.analyze(warmUpImage(), null, 'warm-up');
        await engine.warmUp();
      })
      .catch(() => undefined);
  } catch (error) {
    log(`warning: no model is ready (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Releases the data-folder lock and stops the workers, so a quit never leaves a stale lock behind. */
export async function shutDown(): Promise<void> {
  stopPacsLoops();
  await Promise.allSettled([closeInferenceEngines(), closeDecoderWorker(), closeWholeImageModels()]);
  closeStudyStores();
}
