/** Shared helpers for the inference tests: the tiny model and synthetic images with a known bright spot. */
import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Letterbox } from '../../core/inference/index';
import type { PipelineImage } from '../../main/inference/index';
import { REPO_ROOT } from '../shared-data';

export const TINY_MODEL_DIR = path.join(REPO_ROOT, 'test/fixtures/models/tiny');

/** A writable copy of the tiny model, to tamper with. */
export function tinyModelCopy(): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cvm-model-')), 'tiny');
  cpSync(TINY_MODEL_DIR, dir, { recursive: true });
  return dir;
}

/** A w x h 16-bit image, dark except a Gaussian spot of the given sigma centred at (cx, cy). */
export function spotImage(w: number, h: number, cx: number, cy: number, sigma: number): PipelineImage {
  const data = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++)
      data[y * w + x] = Math.round(60000 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma * sigma)));
  }
  return { width: w, height: h, data, window: { center: 32767.5, width: 65536 } };
}

/** Image pixel (x, y) -> stage-1 input pixel (models/README.md's forward map; the app only needs the inverse). */
export function imageToLetterbox(lb: Letterbox, x: number, y: number): { u: number; v: number } {
  return { u: ((x + 0.5) * lb.rw) / lb.w - 0.5 + lb.ox, v: ((y + 0.5) * lb.rh) / lb.h - 0.5 + lb.oy };
}
