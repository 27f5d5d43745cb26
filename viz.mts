import { readFileSync, writeFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { decodeImageFile } from './main/dicom/index';
const [f, out, wi] = process.argv.slice(2);
const r = await decodeImageFile('x', readFileSync(f!));
const w = r.pixels.windows[Number(wi ?? 0)]!;
const { width, height, data } = r.pixels;
const step = Math.max(1, Math.ceil(Math.max(width, height) / 800));
const W = Math.floor(width / step), H = Math.floor(height / step);
const o = new Uint8Array(W * H);
for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
  const v = data[y * step * width + x * step]!;
  o[y * W + x] = Math.max(0, Math.min(255, Math.round(((v - (w.center - w.width / 2)) / w.width) * 255)));
}
writeFileSync(out!, encode({ width: W, height: H, data: o, channels: 1, depth: 8 }));
console.log(w);
