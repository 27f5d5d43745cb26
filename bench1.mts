import { readFileSync } from 'node:fs';
import { decodeImageFile } from './main/dicom/index';
for (const f of process.argv.slice(2)) {
  const b = readFileSync(f);
  await decodeImageFile('x', b);
  const t: number[] = [];
  for (let i = 0; i < 3; i++) { const s = performance.now(); await decodeImageFile('x', b); t.push(performance.now() - s); }
  t.sort((a, c) => a - c);
  console.log(f.split('/').pop(), t.map((x) => x.toFixed(0)).join(' '));
}
