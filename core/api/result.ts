/** Errors cross the IPC boundary as values, never as thrown exceptions. */
export type ErrorCode =
  | 'invalid-request'
  | 'not-found'
  | 'unsupported'
  | 'corrupt-file'
  | 'no-spacing'
  | 'model-invalid'
  | 'inference-failed'
  | 'storage'
  | 'conflict'
  | 'cancelled'
  /** The connection between renderer and main broke; the request may be retried. */
  | 'transport'
  | 'internal';

export interface ApiError {
  readonly code: ErrorCode;
  /** One sentence for the user: what went wrong and with which file or item. */
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, message: string): Result<never> => ({ ok: false, error: { code, message } });
