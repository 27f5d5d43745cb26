/** Electron entry: the real Electron module handed to the shell (main/app/shell.ts). */
import electron from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startShell } from './shell';

const appDir = path.dirname(fileURLToPath(import.meta.url)); // dist/app
void startShell(electron, {
  appDir,
  rendererIndex: path.join(appDir, '..', 'renderer', 'index.html'),
  resourcesPath: process.resourcesPath,
});
