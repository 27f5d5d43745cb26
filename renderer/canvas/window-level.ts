/** Window/level of 16-bit display values into 8-bit RGBA, through a lookup table (one per window change). */
export interface DisplayWindow {
  readonly center: number;
  readonly width: number;
  readonly invert: boolean;
}

/** DICOM PS3.3 C.11.2.1.2 linear VOI function over 0..65535, as a 65536-entry table. */
export function windowLut(w: DisplayWindow): Uint8Array {
  const lut = new Uint8Array(65536);
  const width = Math.max(1, w.width);
  const low = w.center - 0.5 - (width - 1) / 2;
  const high = w.center - 0.5 + (width - 1) / 2;
  for (let v = 0; v < 65536; v++) {
    let out: number;
    if (v <= low) out = 0;
    else if (v > high) out = 255;
    else out = ((v - (w.center - 0.5)) / (width - 1) + 0.5) * 255;
    const byte = Math.round(Math.min(255, Math.max(0, out)));
    lut[v] = w.invert ? 255 - byte : byte;
  }
  return lut;
}

/** Fills `rgba` (width*height*4 bytes) with grey pixels; alpha opaque. */
export function applyWindow(data: Uint16Array, lut: Uint8Array, rgba: Uint8ClampedArray): void {
  const out = new Uint32Array(rgba.buffer, rgba.byteOffset, data.length);
  for (let i = 0; i < data.length; i++) {
    // A per-pixel loop over whole radiographs: no iterator, no fallback.
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- i < length; the LUT covers every Uint16
    const g = lut[data[i]!]!;
    out[i] = 0xff000000 | (g << 16) | (g << 8) | g; // little-endian ABGR
  }
}
