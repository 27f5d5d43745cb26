/**
 * `npm run smoke:electron`: the release check of the desktop app itself. Launches the real Electron app
 * (dist/app/main.mjs, built by `npm run build`) with playwright-core's Electron driver, imports a
 * cephalogram, places its landmarks, drags one until the stage panel restages, and quits cleanly
 * (the data-folder lock released). Needs the Electron binary and a display (run under `xvfb-run` on a
 * headless Linux machine); where the binary is absent it says so and skips.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron } from 'playwright-core';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';
import { annotatedPoints, dragLandmark, importAndOpen, placeByHand, stageText } from './study-page';

function electronBinary(): string | null {
  if (process.env['ELECTRON_PATH'])
    return existsSync(process.env['ELECTRON_PATH']) ? process.env['ELECTRON_PATH'] : null;
  // Reading path.txt directly: require('electron') would try to download the binary.
  const pathFile = path.join(REPO_ROOT, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = path.join(REPO_ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

async function main(): Promise<number> {
  const binary = electronBinary();
  if (!binary) {
    console.log(
      'smoke:electron SKIPPED: no Electron binary (node_modules/electron/path.txt missing or its file absent). ' +
        'It downloads on the first `npm start` on a connected machine; or set ELECTRON_PATH.',
    );
    return 0;
  }
  if (!HAS_SHARED_DATA) {
    console.log('smoke:electron SKIPPED: ../shared/data is absent (the smoke test opens a real cephalogram).');
    return 0;
  }
  if (process.platform === 'linux' && !process.env['DISPLAY']) {
    console.error('smoke:electron needs a display: run it as `xvfb-run -a npm run smoke:electron`.');
    return 1;
  }
  const main = path.join(REPO_ROOT, 'dist', 'app', 'main.mjs');
  if (!existsSync(main)) {
    console.error(`smoke:electron: ${main} is missing: run "npm run build" first.`);
    return 1;
  }
  const userData = mkdtempSync(path.join(os.tmpdir(), 'cvm-smoke-'));
  const app = await _electron.launch({ executablePath: binary, args: [main, `--user-data-dir=${userData}`] });
  try {
    const page = await app.firstWindow();
    await importAndOpen(page, sharedPath('isbi2015', 'images', '001.jpg'), '0.1');
    await placeByHand(page, annotatedPoints(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8'), '001'));
    const before = await stageText(page);
    let after = before;
    for (let i = 0; i < 8 && after === before; i++) {
      await dragLandmark(page, 'C3m', 0, 10);
      after = await stageText(page);
    }
    if (after === before) throw new Error(`the stage panel did not restage after dragging C3m (still "${before}")`);
    console.log(`smoke:electron: opened 001.jpg, stage "${before}" -> "${after}" after a drag`);
  } finally {
    await app.close();
  }
  const lock = path.join(userData, 'cvm.lock');
  if (existsSync(lock)) throw new Error('the data-folder lock was left behind after quitting');
  rmSync(userData, { recursive: true, force: true });
  console.log('smoke:electron PASSED: started, restaged after a drag, quit cleanly');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`smoke:electron FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
