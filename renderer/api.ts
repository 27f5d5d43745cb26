/** The renderer's only door to main: the object the preload exposed (Electron or browser mode). */
import type { CvmApi } from '../core/api/index';

function findApi(): CvmApi {
  const api = (window as unknown as { cvm?: CvmApi }).cvm;
  if (!api) throw new Error('The workstation API is missing: the page was opened without its preload.');
  return api;
}

export const api: CvmApi = findApi();
