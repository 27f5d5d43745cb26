/** Start and stop of the long-lived parts behind the services: the database, the decoder and the model worker. */
import { closeDecoderWorker } from '../dicom/decoder-pool';
import { closeInferenceEngines, engineFor } from './analysis';
import type { PipelineImage } from '../inference/index';
import type { ServiceContext } from './context';
import { closeStudyStores } from './studies';

/** A smooth 2000x2400 synthetic radiograph: runs every step of the pipeline at a typical size. */
function warmUpImage(): PipelineImage {
  const width = 2000;
  const height = 2400;
  const data = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = ((x * 7 + y * 13) % 4096) * 16;
  return { width, height, data, window: { center: 32768, width: 65536 } };
}

/**
 * Loads the default model in its worker and runs one analysis of a synthetic image through it, so the
 * first real analysis finds sessions, buffers and compiled code warm (it otherwise pays 350-450 ms more).
 * A missing or refused model is reported later, when used.
 */
export function warmUp(ctx: ServiceContext): void {
  engineFor(ctx)
    .then((engine) => engine.analyze(warmUpImage(), null, 'warm-up'))
    .catch(() => undefined);
}

/** Releases the data-folder lock and stops the workers, so a quit never leaves a stale lock behind. */
export async function shutDown(): Promise<void> {
  await Promise.allSettled([closeInferenceEngines(), closeDecoderWorker()]);
  closeStudyStores();
}
