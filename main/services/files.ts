/**
 * Image files outside the data folder as use cases of the command line (`cvm info`, `analyze`, `eval`,
 * `boneage`): open a file (checked regular file within the size limit, decoded by content), in this thread
 * or in the decoder worker. Nothing here touches the database or ONNX Runtime, so a command that only
 * reads files loads neither (test/cli/bundle.test.ts).
 */
import path from 'node:path';
import type { OpenedImage } from '../../core/api/image';
import type { ImageSummary } from '../dicom/index';
import { readImageFileSafely } from '../dicom/read-file';
import { preferBaselineWasm } from '../dicom/wasm-compilation';

export { ImageDecodeError } from '../dicom/errors';
export type { ImageSummary } from '../dicom/index';

export interface OpenFileOptions {
  /** 0-based frame of a multi-frame file; the first by default. */
  readonly frame?: number;
  /** Decode in the decoder worker (keeps this thread free; lets decoding overlap other work). */
  readonly inWorker?: boolean;
  /**
   * This thread decodes this one image (a command line given one file): the grey JPEG module is then compiled
   * to baseline code only, which saves the optimising recompile a single decode never profits from
   * (main/dicom/wasm-compilation.ts).
   */
  readonly oneImage?: boolean;
}

/**
 * Reads and decodes one image file; a FIFO, a device or an oversized file is refused before it is read.
 * Every failure is an ImageDecodeError (or a read error) naming the file by its base name.
 */
export async function openImageFile(file: string, options: OpenFileOptions = {}): Promise<OpenedImage> {
  const name = path.basename(file);
  const bytes = readImageFileSafely(file, name);
  const decodeOptions = options.frame === undefined ? {} : { frame: options.frame };
  // The pool (worker_threads) is loaded only by commands that decode in a worker: `cvm info` never loads it.
  if (options.inWorker) return (await import('../dicom/decoder-pool')).decodeInWorker(name, bytes, decodeOptions);
  if (options.oneImage) preferBaselineWasm();
  // Loaded on first use: a command that decodes in the worker only (`cvm analyze`) never loads the parsers here.
  const { decodeImageFile } = await import('../dicom/index');
  return decodeImageFile(name, bytes, decodeOptions);
}

/**
 * What openImageFile reports of a file without its display pixels (`cvm info`): the same info, windows and
 * mapping, found without mapping every pixel where the file allows (see summarizeImageFile in main/dicom).
 */
export async function summarizeImageFileAt(
  file: string,
  options: { readonly frame?: number } = {},
): Promise<ImageSummary> {
  preferBaselineWasm(); // one image, in this thread (see OpenFileOptions.oneImage)
  const { summarizeImageFileOnDisk } = await import('../dicom/native-summary');
  return summarizeImageFileOnDisk(
    file,
    path.basename(file),
    options.frame === undefined ? {} : { frame: options.frame },
  );
}

/** Stops the decoder worker(s) started by openImageFile(..., { inWorker: true }). */
export async function closeFileDecoders(): Promise<void> {
  await (await import('../dicom/decoder-pool')).closeDecoderWorker();
}
