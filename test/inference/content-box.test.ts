/**
 * The frame of uniform rows and columns around a radiograph (a film scanned on a larger bed, a padded export) is
 * found and left out before stage 1; a radiograph without one, or with only a thin one, is left as it is.
 */
import { describe, expect, it } from 'vitest';
import { contentBox, cropPixels, unitOf } from '../../core/inference/index';

const unit8 = unitOf({ center: 127.5, width: 255 });

/** A w x h 8-bit image: noise-textured "film" in the box, `frame` everywhere else. */
function framed(w: number, h: number, box: { x0: number; y0: number; width: number; height: number }, frame: number) {
  const data = new Uint8Array(w * h).fill(frame);
  let seed = 7;
  for (let y = box.y0; y < box.y0 + box.height; y++)
    for (let x = box.x0; x < box.x0 + box.width; x++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      data[y * w + x] = 40 + (seed % 160);
    }
  return data;
}

describe('contentBox', () => {
  it('finds a film on a black canvas 1.5 times as large', () => {
    const box = { x0: 50, y0: 60, width: 200, height: 240 };
    expect(contentBox(framed(300, 360, box, 0), 300, 360, unit8)).toEqual(box);
  });

  it('finds a white frame on two sides only', () => {
    const box = { x0: 0, y0: 0, width: 160, height: 150 };
    expect(contentBox(framed(200, 200, box, 255), 200, 200, unit8)).toEqual(box);
  });

  it('leaves an image without a frame, or with one thinner than a tenth of each side, as it is', () => {
    expect(contentBox(framed(200, 200, { x0: 0, y0: 0, width: 200, height: 200 }, 0), 200, 200, unit8)).toBeNull();
    expect(contentBox(framed(200, 200, { x0: 8, y0: 8, width: 184, height: 184 }, 0), 200, 200, unit8)).toBeNull();
  });

  it('does not crop a blank image or one whose content is a sliver', () => {
    expect(contentBox(new Uint8Array(100 * 100), 100, 100, unit8)).toBeNull();
    expect(contentBox(framed(200, 200, { x0: 90, y0: 0, width: 20, height: 200 }, 0), 200, 200, unit8)).toBeNull();
  });

  it('reads 16-bit values through the window, so noise below 2% of it is still a frame', () => {
    const w = 120;
    const h = 100;
    const data = new Uint16Array(w * h).fill(1000);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) if (x >= 30) data[y * w + x] = 20000 + ((x * 7919 + y * 104729) % 20000);
    for (let y = 0; y < h; y++) data[y * w] = 1500; // a faint line in the frame: 0.8% of the window
    const box = contentBox(data, w, h, unitOf({ center: 32767.5, width: 65536 }));
    expect(box).toEqual({ x0: 30, y0: 0, width: 90, height: 100 });
    expect(Array.from(cropPixels(data, w, box!).subarray(0, 3))).toEqual(Array.from(data.subarray(30, 33)));
  });
});
