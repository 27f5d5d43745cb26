/**
 * The one-page report as a DICOM Secondary Capture (8-bit grey, A4 portrait at 150 dpi): the text of the
 * result (patient, study, stage with probabilities, peak-growth timing, measurements, model, review) burned
 * in with a bitmap font above the C2-C4 region of the image with the 13 landmarks marked. Any viewer shows it.
 */
import type { ImagePixels } from '../../core/api/image';
import type { LandmarkPoints } from '../../core/api/studies';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import { el, writeDicom, type DicomElement } from '../dicom/writer';
import { drawText } from './font';
import { commonAttributes, sortDeep } from './sr';
import type { SourceImage } from './source';

export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
export const PAGE = { width: 1240, height: 1754 } as const;
const MARGIN = 80;

/** Wraps `text` into lines of at most `chars` characters at word boundaries. */
export function wrapText(text: string, chars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The default window of the pixels, as 8-bit grey. */
function windowed(p: ImagePixels): (v: number) => number {
  const w = p.windows[0] ?? { center: 32768, width: 65536 };
  const lo = w.center - w.width / 2;
  return (v) => Math.max(0, Math.min(255, Math.round(((v - lo) / w.width) * 255)));
}

export interface ReportPage {
  readonly title: string;
  /** Lines of text; long ones are wrapped. */
  readonly lines: readonly string[];
}

/** Renders the page: text at the top, the landmark region of the image below. */
export function renderReportPage(page: ReportPage, pixels: ImagePixels, landmarks: LandmarkPoints): Uint8Array {
  const { width, height } = PAGE;
  const img = new Uint8Array(width * height).fill(255);
  let y = MARGIN;
  drawText(img, width, height, page.title, MARGIN, y, 4);
  y += 7 * 4 + 24;
  const scale = 2;
  const perLine = Math.floor((width - 2 * MARGIN) / (6 * scale));
  for (const line of page.lines) {
    for (const part of line === '' ? [''] : wrapText(line, perLine)) {
      drawText(img, width, height, part, MARGIN, y, scale);
      y += 7 * scale + 8;
    }
  }
  y += 16;
  // The region: the landmarks' bounds with a margin of 60% (whole image without landmarks).
  const pts = LANDMARK_NAMES.map((n) => landmarks[n]).filter((p): p is readonly [number, number] => p !== undefined);
  let [x0, y0, x1, y1] = [0, 0, pixels.width, pixels.height];
  if (pts.length > 0) {
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const pad = 0.6 * Math.max(maxX - minX, maxY - minY, 50);
    x0 = Math.max(0, Math.floor(minX - pad));
    x1 = Math.min(pixels.width, Math.ceil(maxX + pad));
    y0 = Math.max(0, Math.floor(minY - pad));
    y1 = Math.min(pixels.height, Math.ceil(maxY + pad));
  }
  const boxW = width - 2 * MARGIN;
  const boxH = height - MARGIN - y;
  if (boxH < 100 || x1 <= x0 || y1 <= y0) return img;
  const s = Math.min(boxW / (x1 - x0), boxH / (y1 - y0));
  const outW = Math.floor((x1 - x0) * s);
  const outH = Math.floor((y1 - y0) * s);
  const ox = MARGIN + Math.floor((boxW - outW) / 2);
  const grey = windowed(pixels);
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- sy < height and sx < width (clamped), and data
     holds width x height values */
  for (let r = 0; r < outH; r++) {
    const sy = Math.min(pixels.height - 1, Math.floor(y0 + (r + 0.5) / s));
    for (let c = 0; c < outW; c++) {
      const sx = Math.min(pixels.width - 1, Math.floor(x0 + (c + 0.5) / s));
      img[(y + r) * width + ox + c] = grey(pixels.data[sy * pixels.width + sx]!);
    }
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  // Landmarks: a black cross with a white rim, and the name beside it.
  for (const name of LANDMARK_NAMES) {
    const p = landmarks[name];
    if (!p) continue;
    const cx = Math.round(ox + (p[0] - x0) * s);
    const cy = Math.round(y + (p[1] - y0) * s);
    for (const [value, half, thick] of [
      [255, 9, 2],
      [0, 7, 1],
    ] as const) {
      for (let d = -half; d <= half; d++) {
        for (let t = -thick; t <= thick; t++) {
          for (const [px, py] of [
            [cx + d, cy + t],
            [cx + t, cy + d],
          ] as const) {
            if (px >= 0 && px < width && py >= y && py < height) img[py * width + px] = value;
          }
        }
      }
    }
    drawText(img, width, height, name, cx + 12, cy - 7, 2, 255);
    drawText(img, width, height, name, cx + 11, cy - 8, 2, 0);
  }
  return img;
}

export interface ScInput {
  readonly source: SourceImage;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly instanceNumber: number;
  readonly page: Uint8Array;
  readonly now: Date;
  readonly appVersion: string;
}

export function buildSecondaryCapture(input: ScInput): Uint8Array {
  const src = input.source;
  const elements: DicomElement[] = [
    ...commonAttributes(src, input.now, input.appVersion),
    el(0x0008, 0x0008, 'CS', 'DERIVED\\SECONDARY'),
    el(0x0008, 0x0016, 'UI', SECONDARY_CAPTURE),
    el(0x0008, 0x0018, 'UI', input.sopInstanceUid),
    el(0x0008, 0x0060, 'CS', 'OT'),
    el(0x0008, 0x0064, 'CS', 'WSD'),
    el(0x0008, 0x103e, 'LO', 'CVM report'),
    el(0x0008, 0x2111, 'ST', 'CVM assessment report page rendered from the source image'),
    el(0x0008, 0x2112, 'SQ', [
      [el(0x0008, 0x1150, 'UI', src.sopClassUid), el(0x0008, 0x1155, 'UI', src.sopInstanceUid)],
    ]),
    el(0x0020, 0x000e, 'UI', input.seriesInstanceUid),
    el(0x0020, 0x0011, 'IS', '9902'),
    el(0x0020, 0x0013, 'IS', String(input.instanceNumber)),
    el(0x0020, 0x0020, 'CS', ''),
    el(0x0028, 0x0002, 'US', [1]),
    el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    el(0x0028, 0x0010, 'US', [PAGE.height]),
    el(0x0028, 0x0011, 'US', [PAGE.width]),
    el(0x0028, 0x0100, 'US', [8]),
    el(0x0028, 0x0101, 'US', [8]),
    el(0x0028, 0x0102, 'US', [7]),
    el(0x0028, 0x0103, 'US', [0]),
    el(0x0028, 0x0301, 'CS', 'YES'),
    el(0x7fe0, 0x0010, 'OB', input.page),
  ];
  return writeDicom(sortDeep(elements), { encoding: 'explicit-le' });
}
