/**
 * Where the inference worker's code is (see main/workers/entry.ts): worker.ts from source, and
 * `inference-worker.cjs` beside the app bundle; CVM_INFERENCE_WORKER overrides both. Also where
 * onnxruntime-node's CUDA library would be.
 */
import './ort-telemetry'; // before any inference worker starts: see there
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { modulePath, workerEntry as genericWorkerEntry, type WorkerEntry } from '../workers/entry';

export const BUNDLED_WORKER_FILE = 'inference-worker.cjs';

/** Says when onnxruntime-node's CUDA provider library is not installed at all (its install step downloads it). */
export function cudaLibraryHint(): string {
  try {
    const pkg = path.dirname(path.dirname(createRequire(modulePath(import.meta.url)).resolve('onnxruntime-node'))); // <pkg>/dist/index.js
    const dir = path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return existsSync(path.join(dir, lib))
      ? ''
      : ` (${lib} is not installed beside onnxruntime-node: its install step that downloads the CUDA provider was skipped or failed)`;
  } catch {
    return '';
  }
}

/** The inference worker: worker.ts from source, inference-worker.cjs beside the app bundle. */
export function workerEntry(): WorkerEntry {
  return genericWorkerEntry({
    caller: modulePath(import.meta.url),
    source: 'worker.ts',
    bundled: BUNDLED_WORKER_FILE,
    env: 'CVM_INFERENCE_WORKER',
  });
}
