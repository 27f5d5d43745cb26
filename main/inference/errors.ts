/** Errors of the inference engine, each with the ApiError code it maps to. */
import type { ErrorCode } from '../../core/api/index';

/** A model that cannot be used: bad manifest, missing file, wrong hash or graph. The message names the file. */
export class ModelError extends Error {
  readonly code: ErrorCode = 'model-invalid';
}

/** The inference worker failed while handling a request (it is restarted). */
export class InferenceError extends Error {
  readonly code: ErrorCode = 'inference-failed';
}
