/**
 * A separate process writing to a data folder, for the crash, lock and concurrency tests.
 * node --import tsx writer.ts <dataDir> <mode> [count]
 *   hold:  open the store, print "ready", wait to be killed
 *   edits: open the store, save <count> edits of image 1 (creating it first), printing each confirmed
 *          version id as it returns, then wait to be killed
 */
import { LANDMARK_NAMES } from '../../../core/landmarks/index';
import { syntheticInfo, syntheticPoints } from '../../../main/cli/bench/synthetic';
import { Store } from '../../../main/store/store';

const [dataDir, mode, countText] = process.argv.slice(2);
if (!dataDir || !mode) throw new Error('usage: writer.ts <dataDir> <hold|edits> [count]');

const store = Store.open(dataDir, { purpose: 'test writer' });
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

if (mode === 'edits') {
  const count = Number(countText ?? '100');
  let imageId = store.findImageBySha('a'.repeat(64))?.imageId;
  if (imageId === undefined) {
    imageId = store.insertImage({
      sha256: 'a'.repeat(64),
      storedPath: 'images/a.dcm',
      originalName: 'a.dcm',
      byteSize: 1,
      info: syntheticInfo(1),
      author: 'writer',
    }).imageId;
    const confidences = Object.fromEntries(LANDMARK_NAMES.map((n) => [n, 0.9]));
    store.recordModelRun(imageId, {
      modelId: 'm',
      modelVersion: '1',
      modelSha256: 'x',
      provider: 'cpu',
      timingsMs: {},
      landmarks: syntheticPoints('CS4'),
      confidences,
    });
  }
  let base = store.loadStudy(imageId).latest?.versionId ?? null;
  for (let i = 0; i < count; i++) {
    const saved = store.addVersion(imageId, {
      kind: 'edit',
      points: syntheticPoints(i % 2 ? 'CS1' : 'CS4', 800 + i),
      author: 'writer',
      baseVersionId: base,
      moved: ['C2p'],
    });
    base = saved.versionId;
    say(`saved ${saved.versionId} ${saved.version}`);
  }
  say('done');
} else {
  say('ready');
}
setInterval(() => {}, 1000);
