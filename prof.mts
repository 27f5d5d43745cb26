import { readFileSync } from 'node:fs';
import { parseDicomBytes } from './main/dicom/parse';
import { readPixelModule, decodeStoredFrame } from './main/dicom/pixels';
import { buildPixels } from './main/dicom/pipeline';
import { findTransferSyntax } from './main/dicom/transfer-syntax';
import { automaticWindow } from './main/dicom/windows';
const b = readFileSync(process.argv[2]!);
for (let k = 0; k < 3; k++) {
  let t = performance.now(); const lap = (n: string) => { const x = performance.now(); process.stdout.write(`${n} ${(x - t).toFixed(0)}  `); t = x; };
  const p = parseDicomBytes('x', b); lap('parse');
  const m = readPixelModule('x', p.dataSet);
  const s = await decodeStoredFrame('x', p.dataSet, m, findTransferSyntax(p.transferSyntaxUid)!, 0); lap('stored');
  const r = buildPixels('x', p.dataSet, s, m.columns, m.rows, m.signed, false); lap('pixels');
  automaticWindow(r.pixels.data); lap('auto'); console.log();
}
