/**
 * The one-page report as the app drew it, kept for the result's DICOM Secondary Capture. The report (PNG and
 * PDF, with the growth chart) is drawn by one renderer, in the app (renderer/features/study/report.ts); the
 * app hands main the PNG of the page when a study is approved or its report written, and the SC carries
 * exactly those pixels. A page belongs to one landmark version and review state: once the result changes, it
 * is stale and not used.
 */
import { decode } from 'fast-png';
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

/** A PNG page as 8-bit RGB; a file that is not a usable page is refused with the reason. */
export function pagePixels(png: Uint8Array): ReportPagePixels {
  let img: ReturnType<typeof decode>;
  try {
    img = decode(png);
  } catch (error) {
    throw new StoreError(
      'invalid-request',
      'invalid',
      `The report page is not a PNG image: ${(error as Error).message}`,
    );
  }
  const { width, height, channels, depth } = img;
  if (width < MIN_SIDE || height < MIN_SIDE || width > MAX_SIDE || height > MAX_SIDE)
    throw new StoreError(
      'invalid-request',
      'invalid',
      `The report page is ${width} x ${height} pixels: a page is ${MIN_SIDE} to ${MAX_SIDE} pixels on each side.`,
    );
  if (depth !== 8 || img.palette || ![1, 2, 3, 4].includes(channels))
    throw new StoreError(
      'invalid-request',
      'invalid',
      `The report page must be an 8-bit grey, RGB or RGBA PNG (this one has ${channels} channel(s) of ${depth} bits${img.palette ? ' and a palette' : ''}).`,
    );
  const data = img.data;
  const rgb = new Uint8Array(width * height * 3);
  const alpha = channels === 2 || channels === 4;
  const colour = channels >= 3;
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- i < width * height, and data holds that many
     pixels of `channels` values */
  for (let i = 0, j = 0; i < width * height; i++, j += channels) {
    const a = alpha ? data[j + channels - 1]! / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const v = data[j + (colour ? c : 0)]!;
      rgb[i * 3 + c] = Math.round(v * a + 255 * (1 - a));
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

/** Keeps the page the app drew for an image (replacing an older one); checked before it is stored. */
export function saveReportPage(store: Store, request: PacsReportPageRequest, author: string): ReportPagePixels {
  const pixels = pagePixels(request.png);
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
