import { readFileSync } from 'node:fs';
import { decodeImageFile } from './main/dicom/index';
const dir = '/work/shared/data/dicom/wg04-cr/';
for (const base of ['RG2', 'RG3']) {
  const ref = await decodeImageFile('r', readFileSync(dir + base + '_UNC.dcm'));
  const rm = (i: number) => ref.pixels.data[i]! * ref.pixels.modalitySlope + ref.pixels.modalityIntercept;
  for (const s of ['JPLL', 'JLSL', 'J2KR', 'RLE', 'JPLY', 'JLSN', 'J2KI']) {
    const r = await decodeImageFile('x', readFileSync(dir + base + '_' + s + '.dcm'));
    let maxd = 0, sum = 0, exact = true; const n = r.pixels.data.length;
    for (let i = 0; i < n; i++) { const d = Math.abs(r.pixels.data[i]! * r.pixels.modalitySlope + r.pixels.modalityIntercept - rm(i)); if (d > maxd) maxd = d; sum += d; if (r.pixels.data[i] !== ref.pixels.data[i]) exact = false; }
    console.log(base, s, 'exact', exact, 'max', maxd.toFixed(2), 'mean', (sum / n).toFixed(3), 'range', (65535*Math.abs(ref.pixels.modalitySlope)).toFixed(0));
  }
}
