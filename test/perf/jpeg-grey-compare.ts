/**
 * Two versions of the JPEG decode path side by side, in one process, with libjpeg-turbo's `djpeg -grayscale` as a
 * process in the same loop (docs/performance.md, round 3):
 *   OLD_SRC=<checkout of the other version: main/, core/, node_modules> \
 *     npx tsx test/perf/jpeg-grey-compare.ts [rounds]
 * Both versions' results are checked equal first (pixels and windows); then wall and CPU medians per decode.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeImageFile as newDecode } from '../../main/dicom/index';
import { sharedPath } from '../shared-data';

type Decode = typeof newDecode;
const FILE = sharedPath('isbi2015', 'images', '001.jpg');
const OLD_SRC = process.env.OLD_SRC;
if (!OLD_SRC) throw new Error('OLD_SRC=<a checkout of the other version> is required');

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? (s[(n - 1) / 2] ?? NaN) : ((s[n / 2 - 1] ?? NaN) + (s[n / 2] ?? NaN)) / 2;
};

async function main(): Promise<void> {
  const oldDecode = ((await import(path.resolve(OLD_SRC ?? '', 'main/dicom/index.ts'))) as { decodeImageFile: Decode })
    .decodeImageFile;
  const jpeg = readFileSync(FILE);
  const a = await oldDecode('001.jpg', jpeg);
  const b = await newDecode('001.jpg', jpeg);
  if (
    JSON.stringify(a.pixels.windows) !== JSON.stringify(b.pixels.windows) ||
    Buffer.compare(Buffer.from(a.pixels.data.buffer), Buffer.from(b.pixels.data.buffer)) !== 0
  )
    throw new Error('the two versions decode differently');
  const wall: Record<'old' | 'new', number[]> = { old: [], new: [] };
  const cpu: Record<'old' | 'new', number[]> = { old: [], new: [] };
  const djpeg: number[] = [];
  const rounds = Number(process.argv[2] ?? 15);
  for (let i = 0; i < rounds; i++) {
    const order: Array<['old' | 'new', Decode]> =
      i % 2
        ? [
            ['new', newDecode],
            ['old', oldDecode],
          ]
        : [
            ['old', oldDecode],
            ['new', newDecode],
          ];
    for (const [name, decode] of order) {
      const t = performance.now();
      const c = process.cpuUsage();
      await decode('001.jpg', jpeg);
      const used = process.cpuUsage(c);
      wall[name].push(performance.now() - t);
      cpu[name].push((used.user + used.system) / 1000);
    }
    const t = performance.now();
    spawnSync('sh', ['-c', `djpeg -grayscale -outfile /dev/null "${FILE}" >/dev/null 2>&1`]);
    djpeg.push(performance.now() - t);
  }
  const dj = median(djpeg);
  const line = (name: 'old' | 'new'): string =>
    `${name} ${median(wall[name]).toFixed(1)} ms (CPU ${median(cpu[name]).toFixed(1)} ms) x${(median(wall[name]) / dj).toFixed(2)} of djpeg`;
  console.log(
    `${line('old')}; ${line('new')}; djpeg -grayscale as a process ${dj.toFixed(1)} ms; ${rounds} rounds; load ${os.loadavg()[0]?.toFixed(1)}`,
  );
}

await main();
