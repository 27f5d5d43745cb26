import type { ErrorCode } from '../../core/api/result';

/** A file that cannot be opened as an image; `message` names the file and the problem. */
export class ImageDecodeError extends Error {
  readonly code: ErrorCode;
  readonly fileName: string;
  /** The message without the file name. */
  readonly problem: string;

  constructor(code: ErrorCode, fileName: string, problem: string) {
    super(`${fileName}: ${problem}`);
    this.name = 'ImageDecodeError';
    this.code = code;
    this.fileName = fileName;
    this.problem = problem;
  }
}
