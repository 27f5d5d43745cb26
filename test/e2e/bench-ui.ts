/**
 * `npm run bench:ui`: drag latency in Chromium through browser mode on 001.jpg (1935 x 2400 px), landmarks
 * placed from the cvm13 annotation. Prints medians and 95th percentiles; asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { sharedPath, HAS_SHARED_DATA } from '../shared-data';
import { startSession } from './harness';
import { measureDragLatency } from './drag-latency';
import { annotatedPoints, importAndOpen, landmarks, placeByHand } from './study-page';

if (!HAS_SHARED_DATA) {
  console.error('bench:ui needs ../shared/data (001.jpg and its cvm13 annotation)');
  process.exit(1);
}
const session = await startSession({ width: 1366, height: 768 });
try {
  const { page } = session;
  const truth = annotatedPoints(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8'), '001');
  await importAndOpen(page, sharedPath('isbi2015', 'images', '001.jpg'), '0.1');
  await placeByHand(page, truth);
  await page.keyboard.press('r');
  if (Object.keys(await landmarks(page)).length !== 13) throw new Error('landmarks were not placed');
  const runs = [];
  for (const name of ['C3m', 'C4ua', 'C2m'])
    runs.push({ landmark: name, ...(await measureDragLatency(page, name, 120)) });
  const json = process.argv.includes('--json');
  if (json) console.log(JSON.stringify({ image: '001.jpg 1935x2400', runs }, null, 2));
  else {
    for (const r of runs) {
      console.log(`drag ${r.landmark}: ${r.updates}/${r.moves} moves updated the panel`);
      console.log(
        `  workstation (first listener -> panel updated): median ${r.medianHandlerMs.toFixed(1)} ms, p95 ${r.p95HandlerMs.toFixed(1)} ms`,
      );
      console.log(
        `  event timestamp -> panel updated:              median ${r.medianDomMs.toFixed(1)} ms, p95 ${r.p95DomMs.toFixed(1)} ms`,
      );
      console.log(
        `  event timestamp -> next frame:                 median ${r.medianFrameMs.toFixed(1)} ms, p95 ${r.p95FrameMs.toFixed(1)} ms`,
      );
    }
  }
} finally {
  await session.close();
}
