/**
 * The one-page report as the app drew it, kept for the result's DICOM Secondary Capture. The report (PNG and
 * PDF, with the growth chart) is drawn by one renderer, in the app (renderer/features/study/report.ts); the
 * app hands main the PNG of the page when a study is approved or its report written, and the SC carries
 * exactly those pixels. A page belongs to one landmark version and review state: once the result changes, it
 * is stale and not used.
 */
import { inflateSync } from 'node:zlib';
import type { PacsReportPageRequest } from '../../core/api/pacs';
import { StoreError } from '../store/errors';
import type { Store } from '../store/store';

/** What a page may measure, in pixels (the app's page is A4 at 150 dpi, 1240 x 1754). */
const MIN_SIDE = 200;
const MAX_SIDE = 5000;

export interface ReportPagePixels {
  readonly width: number;
  readonly height: number;
  /** 8-bit RGB, row by row (alpha composed on white). */
  readonly rgb: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Channels per PNG colour type (8-bit samples): grey, RGB, grey + alpha, RGBA. */
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

const refuse = (why: string): StoreError =>
  new StoreError('invalid-request', 'invalid', `The report page is not a usable PNG: ${why}.`);

interface PngLayout {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly idat: readonly Uint8Array[];
}

/** The PNG's size and sample layout, checked, and where its image data is (nothing is inflated). */
function pngLayout(png: Uint8Array): PngLayout {
  if (png.length < 8 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) throw refuse('no PNG signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const body = png.subarray(at + 8, at + 8 + length);
    if (body.length !== length) throw refuse(`its ${type} chunk is cut short`);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const [depth, colourType, , , interlace] = body.subarray(8, 13);
      channels = CHANNELS[colourType ?? -1] ?? 0;
      if (depth !== 8 || channels === 0)
        throw refuse(`colour type ${colourType} with ${depth}-bit samples (8-bit grey, RGB or RGBA only)`);
      if (interlace !== 0) throw refuse('it is interlaced');
      if (width < MIN_SIDE || height < MIN_SIDE || width > MAX_SIDE || height > MAX_SIDE)
        throw refuse(`it is ${width} x ${height} pixels (a page is ${MIN_SIDE} to ${MAX_SIDE} on each side)`);
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  if (channels === 0) throw refuse('no IHDR chunk');
  if (idat.length === 0) throw refuse('no image data');
  return { width, height, channels, idat };
}

/**
 * A PNG page as 8-bit RGB (alpha composed on white); a file that is not a usable page is refused with the reason.
 * The page is 8-bit grey, RGB or RGBA, not interlaced (what a canvas writes); its image data is inflated by
 * Node's zlib: a third of the time fast-png's JavaScript decoder took for the same A4 page (0.31 s against 1.1 s
 * on this loaded machine).
 */
export function pagePixels(png: Uint8Array): ReportPagePixels {
  const { width, height, channels, idat } = pngLayout(png);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (error) {
    throw refuse(`its image data does not inflate (${(error as Error).message})`);
  }
  const stride = width * channels;
  if (raw.length < height * (stride + 1))
    throw refuse(`its image data holds ${raw.length} bytes, not ${height * (stride + 1)}`);
  // Undo the per-row filters in place (PNG specification, section 9), then compose on white. One loop per filter
  // (a Uint8Array wraps each sum to a byte): the page is millions of samples.
  const rgb = new Uint8Array(width * height * 3);
  const n = channels;
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- every index is inside the row (or the one
     above), and raw holds height rows of 1 + stride bytes (checked) */
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1;
    const up = row - (stride + 1);
    const filter = raw[row - 1];
    if (filter === 1 || (filter === 4 && y === 0)) {
      // Sub (and Paeth on the first row, where it predicts from the left alone)
      for (let i = n; i < stride; i++) raw[row + i] = raw[row + i]! + raw[row + i - n]!;
    } else if (filter === 2) {
      if (y > 0) for (let i = 0; i < stride; i++) raw[row + i] = raw[row + i]! + raw[up + i]!;
    } else if (filter === 3) {
      for (let i = 0; i < stride; i++) {
        const left = i >= n ? raw[row + i - n]! : 0;
        const above = y > 0 ? raw[up + i]! : 0;
        raw[row + i] = raw[row + i]! + ((left + above) >> 1);
      }
    } else if (filter === 4) {
      for (let i = 0; i < n; i++) raw[row + i] = raw[row + i]! + raw[up + i]!;
      for (let i = n; i < stride; i++) {
        const left = raw[row + i - n]!;
        const above = raw[up + i]!;
        const corner = raw[up + i - n]!;
        const pa = Math.abs(above - corner);
        const pb = Math.abs(left - corner);
        const pc = Math.abs(left + above - 2 * corner);
        raw[row + i] = raw[row + i]! + (pa <= pb && pa <= pc ? left : pb <= pc ? above : corner);
      }
    } else if (filter !== 0) throw refuse(`row ${y} has the unknown filter ${filter}`);
    const out = y * width * 3;
    if (n === 3) rgb.set(raw.subarray(row, row + stride), out);
    else
      for (let x = 0; x < width; x++) {
        const j = row + x * n;
        const grey = n < 3;
        const a = n === 2 || n === 4 ? raw[j + n - 1]! : 255;
        for (let c = 0; c < 3; c++) {
          const v = raw[j + (grey ? 0 : c)]!;
          rgb[out + x * 3 + c] = a === 255 ? v : Math.round((v * a + 255 * (255 - a)) / 255);
        }
      }
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return { width, height, rgb };
}

export interface StoredReportPage extends ReportPagePixels {
  readonly setId: number;
  readonly reviewStatus: string;
  readonly reviewAt: string | null;
}

/**
 * Keeps the page the app drew for an image (replacing an older one). Its PNG header is checked here (size, samples);
 * the pixels are decoded once, when the Secondary Capture is built.
 */
export function saveReportPage(
  store: Store,
  request: PacsReportPageRequest,
  author: string,
): { readonly width: number; readonly height: number } {
  const pixels = pngLayout(request.png);
  store.sql.write('keep the report page for the PACS', () => {
    const image = store.sql.get<{ latest_set_ref: number | null }>(
      'SELECT latest_set_ref FROM images WHERE id = ?',
      request.imageId,
    );
    if (!image) throw new StoreError('not-found', 'not-found', `There is no image ${request.imageId}.`);
    if (image.latest_set_ref !== request.setId)
      throw new StoreError(
        'conflict',
        'conflict',
        `The report page shows landmark version ${request.setId} of image ${request.imageId}, which is no longer its latest: draw the report again.`,
      );
    store.sql.run(
      `INSERT INTO pacs_report_pages (image_ref, set_ref, review_status, review_at, width, height, png, author, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(image_ref) DO UPDATE SET set_ref = excluded.set_ref, review_status = excluded.review_status,
         review_at = excluded.review_at, width = excluded.width, height = excluded.height, png = excluded.png,
         author = excluded.author, created_at = excluded.created_at`,
      request.imageId,
      request.setId,
      request.reviewStatus,
      request.reviewAt,
      pixels.width,
      pixels.height,
      Buffer.from(request.png),
      author,
      new Date().toISOString(),
    );
  });
  return pixels;
}

/**
 * The page of an image's current result (landmark version and review as given), or why there is none: no page
 * drawn yet, or one of an older result.
 */
export function currentReportPage(
  store: Store,
  imageId: number,
  current: { readonly setId: number; readonly reviewStatus: string; readonly reviewAt: string | null },
): StoredReportPage | { readonly missing: string } {
  const row = store.sql.read('read the report page', () =>
    store.sql.get<{ set_ref: number; review_status: string; review_at: string | null; png: Buffer }>(
      'SELECT set_ref, review_status, review_at, png FROM pacs_report_pages WHERE image_ref = ?',
      imageId,
    ),
  );
  if (!row) return { missing: 'the app has not drawn its report page yet' };
  if (row.set_ref !== current.setId)
    return { missing: 'the report page the app drew shows an earlier landmark version' };
  if (row.review_status !== current.reviewStatus || row.review_at !== current.reviewAt)
    return { missing: 'the report page the app drew shows an earlier review state' };
  return {
    ...pagePixels(row.png),
    setId: row.set_ref,
    reviewStatus: row.review_status,
    reviewAt: row.review_at,
  };
}
