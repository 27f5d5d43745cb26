/** Writes via a temporary file and rename, so a failed export never leaves half a file. */
import { renameSync, writeFileSync } from 'node:fs';
import { guardStorage } from '../store/errors';

export function writeOutput(file: string, text: string): void {
  const temp = `${file}.partial`;
  guardStorage('write the export', file, () => {
    writeFileSync(temp, text);
    renameSync(temp, file);
  });
}
