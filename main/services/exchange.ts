/**
 * Landmark sets in and out: the cvm13 JSON schema (../shared/data/README.md) for training the next model,
 * and a CSV of stages and measurements for research.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { LandmarkPoints } from '../../core/api/studies';
import { LANDMARK_NAMES, isLandmarkName, type LandmarkName } from '../../core/landmarks/index';
import { CVM_STAGES } from '../../core/cvm/types';
import { StoreError, guardStorage } from '../store/errors';
import { samePoints, type ExportRecord, type Store } from '../store/store';
import { ImageDecodeError } from '../dicom/errors';
import { readImageFileSafely } from '../dicom/read-file';
import { DataSetPathError, readDataSetImage, type ImagePathPolicy } from './paths';
import { boneAgeOnlyRecords, latestBoneAges, type BoneAgeOnlyRecord } from '../store/boneage';
import type { BoneAgeRecord } from '../../core/api/boneage';
import { importFile, sha256Of } from './studies';

export const CVM13_SCHEMA = 'cvm13 v1';

export interface Cvm13Image {
  /** Path of the image file relative to the JSON file. */
  readonly image: string;
  readonly points: Partial<Record<LandmarkName, [number, number]>>;
  readonly filled_from_prediction: LandmarkName[];
  // Extensions written by the workstation (readers of the base schema ignore them):
  readonly pixel_spacing_mm?: [number, number] | null;
  readonly image_size?: [number, number];
  readonly sha256?: string;
  readonly review_status?: string;
  readonly author?: string;
  /** The staging model's stage (CS1-CS6) of these landmarks, and its probability. */
  readonly stage?: string | null;
  readonly stage_probability?: number | null;
}

export interface Cvm13File {
  readonly schema: typeof CVM13_SCHEMA;
  /** [row, column] spacing in mm shared by every image, or null when the images differ (see each image). */
  readonly pixel_spacing_mm: [number, number] | null;
  /** [width, height] shared by every image, or null when they differ. */
  readonly image_size: [number, number] | null;
  readonly landmarks: LandmarkName[];
  readonly images: Record<string, Cvm13Image>;
}

export interface ExportOptions {
  readonly approvedOnly: boolean;
  /** Copy the images beside the JSON (`<name>-images/`) instead of pointing into the data folder. */
  readonly copyImages?: boolean;
  /** Called as landmark sets are written (for a progress bar). */
  readonly onProgress?: (done: number, total: number) => void;
}

const sameValue = <T>(values: readonly T[]): T | null => {
  if (values.length === 0) return null;
  const [first] = values;
  return values.every((v) => JSON.stringify(v) === JSON.stringify(first)) ? (first ?? null) : null;
};

const posix = (p: string): string => p.split(path.sep).join('/');

function uniqueIds(records: readonly ExportRecord[]): string[] {
  const stemOf = (r: ExportRecord): string => path.parse(r.originalName).name;
  const stems = records.map(stemOf);
  return records.map((r) => {
    const stem = stemOf(r);
    return stems.filter((s) => s === stem).length > 1 ? `${stem}-${r.imageId}` : stem;
  });
}

/** Builds the cvm13 document for `outFile` (image paths relative to it); copies images when asked. */
export function exportCvm13(
  store: Store,
  outFile: string,
  options: ExportOptions,
): { document: Cvm13File; count: number } {
  const records = [...store.exportRecords({ approvedOnly: options.approvedOnly })];
  const outDir = path.dirname(path.resolve(outFile));
  const imagesDir = path.join(outDir, `${path.parse(outFile).name}-images`);
  if (options.copyImages && records.length > 0)
    guardStorage('create the images folder of the export', imagesDir, () => mkdirSync(imagesDir, { recursive: true }));
  const ids = uniqueIds(records);
  const images: Record<string, Cvm13Image> = {};
  records.forEach((r, i) => {
    const stored = store.absolutePath(r.storedPath);
    let imageFile = stored;
    if (options.copyImages) {
      imageFile = path.join(imagesDir, path.basename(r.storedPath));
      guardStorage('copy an image for the export', imageFile, () => copyFileSync(stored, imageFile));
    }
    const id = ids[i];
    if (id === undefined) throw new Error(`exportCvm13: record ${i} has no export id`);
    images[id] = {
      image: posix(path.relative(outDir, imageFile)),
      points: r.points as Cvm13Image['points'],
      filled_from_prediction: [...r.fromPrediction],
      pixel_spacing_mm: r.spacing ? [r.spacing.rowMm, r.spacing.colMm] : null,
      image_size: [r.width, r.height],
      sha256: r.sha256,
      review_status: r.reviewStatus,
      author: r.author,
      stage: r.stage?.stage ?? null,
      stage_probability: r.stage?.probability ?? null,
    };
    if (options.onProgress && (i % 25 === 24 || i === records.length - 1)) options.onProgress(i + 1, records.length);
  });
  const document: Cvm13File = {
    schema: CVM13_SCHEMA,
    pixel_spacing_mm: sameValue(
      records.map((r) => (r.spacing ? ([r.spacing.rowMm, r.spacing.colMm] as [number, number]) : null)),
    ),
    image_size: sameValue(records.map((r) => [r.width, r.height] as [number, number])),
    landmarks: [...LANDMARK_NAMES],
    images,
  };
  return { document, count: records.length };
}

// ---- CSV ------------------------------------------------------------------------------------------------------

/**
 * One CSV field. Text that a spreadsheet would run as a formula (OWASP CSV injection: a cell starting with
 * =, +, -, @, tab or carriage return, e.g. a patient name "=HYPERLINK(...)") gets a leading apostrophe, and
 * every field with a quote, comma or line break is quoted. Numbers are written as numbers.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value !== 'number' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Every number, string and boolean of the measurements, keyed by its dotted path ("C3.body.ratio"). */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (value === null || typeof value !== 'object') {
    out.set(prefix, value);
    return;
  }
  if (Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'spacing') continue;
    flatten(v, prefix ? `${prefix}.${key}` : key, out);
  }
}

export interface CsvOptions {
  readonly approvedOnly: boolean;
  /** Include patient id and name (off by default: research tables leave the clinic). */
  readonly withIdentifiers?: boolean;
}

const BONE_AGE_COLUMNS = [
  'bone_age_months',
  'bone_age_low_months',
  'bone_age_high_months',
  'bone_age_interval_level',
  'bone_age_sex',
  'bone_age_model',
];

function setBoneAge(row: Map<string, unknown>, b: BoneAgeRecord | undefined): void {
  if (!b) return;
  row.set('bone_age_months', Math.round(b.months * 10) / 10);
  row.set('bone_age_low_months', Math.round(b.interval.low * 10) / 10);
  row.set('bone_age_high_months', Math.round(b.interval.high * 10) / 10);
  row.set('bone_age_interval_level', b.interval.level);
  row.set('bone_age_sex', b.sex);
  row.set('bone_age_model', `${b.model.id} ${b.model.version}`);
}

/** The first CSV columns of a study: who, when and its review (a landmark row and a bone-age-only row alike). */
function studyColumns(r: BoneAgeOnlyRecord): Array<[string, unknown]> {
  return [
    ['image_id', r.imageId],
    ['file_name', r.originalName],
    ['sha256', r.sha256],
    ['patient_id', r.patientId],
    ['patient_name', r.patientName],
    ['sex', r.sex],
    ['study_date', r.studyDate],
    ['age_years', r.ageYears],
    ['review_status', r.reviewStatus],
    ['reviewed_by', r.reviewedBy],
  ];
}

/** One row per image with current landmarks (stage and every measurement, lengths in `unit`), then one per
 * hand-wrist radiograph with a bone age; the bone_age_* columns carry the latest bone age of either. */
export function exportCsv(store: Store, options: CsvOptions): { csv: string; count: number } {
  const base = [
    'image_id',
    'file_name',
    'sha256',
    ...(options.withIdentifiers ? ['patient_id', 'patient_name'] : []),
    'sex',
    'study_date',
    'age_years',
    'review_status',
    'reviewed_by',
    'version',
    'version_kind',
    'author',
    'spacing_row_mm',
    'spacing_col_mm',
    'spacing_source',
    'stage_kind',
    'stage',
    'stage_label',
    'borderline',
    'stage_probability',
    'runner_up',
    'runner_up_probability',
    'confidence',
    'textbook_stage',
    'stage_model',
    ...CVM_STAGES.map((s) => `p_${s}`),
    ...BONE_AGE_COLUMNS,
  ];
  const rows: Array<Map<string, unknown>> = [];
  const boneAges = latestBoneAges(store);
  const measurementColumns: string[] = [];
  for (const r of store.exportRecords({ approvedOnly: options.approvedOnly })) {
    const row = new Map<string, unknown>([
      ...studyColumns(r),
      ['version', r.version],
      ['version_kind', r.versionKind],
      ['author', r.author],
      ['spacing_row_mm', r.spacing?.rowMm],
      ['spacing_col_mm', r.spacing?.colMm],
      ['spacing_source', r.spacing?.source],
      ['stage_kind', r.stage?.kind],
      ['stage', r.stage?.stage],
      ['stage_label', r.stage?.label],
      ['borderline', r.stage ? r.stage.borderline : null],
      ['stage_probability', r.stage?.probability],
      ['runner_up', r.stage?.runnerUp],
      ['runner_up_probability', r.stage?.runnerUpProbability],
      ['confidence', r.stage?.confidence],
      ['textbook_stage', r.stage?.textbookStage],
    ]);
    const assessment = r.assessmentJson
      ? (JSON.parse(r.assessmentJson) as {
          ok: boolean;
          measurements?: unknown;
          staging?: { probabilities?: number[]; model?: { id: string; version: string } };
        })
      : null;
    const staging = assessment?.ok ? assessment.staging : undefined;
    if (staging?.model) row.set('stage_model', `${staging.model.id} ${staging.model.version}`);
    CVM_STAGES.forEach((s, i) => row.set(`p_${s}`, staging?.probabilities?.[i]));
    if (assessment?.ok && assessment.measurements) {
      const measured = new Map<string, unknown>();
      flatten(assessment.measurements, '', measured);
      for (const [key, v] of measured) {
        if (!measurementColumns.includes(key)) measurementColumns.push(key);
        row.set(`m:${key}`, v);
      }
    }
    setBoneAge(row, boneAges.get(r.imageId));
    boneAges.delete(r.imageId);
    rows.push(row);
  }
  // Hand-wrist radiographs have a bone age and no landmarks: one row each (main/services/boneage.ts).
  for (const h of boneAgeOnlyRecords(store, boneAges, options.approvedOnly)) {
    const row = new Map<string, unknown>(studyColumns(h));
    setBoneAge(row, boneAges.get(h.imageId));
    rows.push(row);
  }
  const header = [...base, ...measurementColumns];
  const lines = [header.map(csvField).join(',')];
  for (const row of rows) {
    lines.push(
      [...base.map((c) => row.get(c)), ...measurementColumns.map((c) => row.get(`m:${c}`))].map(csvField).join(','),
    );
  }
  return { csv: `${lines.join('\n')}\n`, count: rows.length };
}

// ---- import ---------------------------------------------------------------------------------------------------

export type Cvm13EntryResult =
  | {
      readonly id: string;
      readonly ok: true;
      readonly imageId: number;
      readonly outcome: 'added' | 'unchanged';
      readonly imageImported: boolean;
    }
  | { readonly id: string; readonly ok: false; readonly message: string };

/** Largest annotation file read (the shared 54-image file is 40 KB; 10,000 images about 10 MB). */
const MAX_CVM13_BYTES = 64 * 1024 * 1024;
const MAX_CVM13_ENTRIES = 100_000;
const MIN_SPACING_MM = 0.001;
const MAX_SPACING_MM = 10;

function parseCvm13(jsonFile: string): Cvm13File {
  let parsed: unknown;
  try {
    // A regular file within a size limit: a FIFO or /dev/zero named as the annotation file is refused at once.
    parsed = JSON.parse(readImageFileSafely(jsonFile, jsonFile, MAX_CVM13_BYTES).toString('utf8'));
  } catch (error) {
    const detail = error instanceof ImageDecodeError ? error.problem : (error as Error).message;
    throw new StoreError('invalid-request', 'invalid', `${jsonFile}: cannot be read as JSON (${detail}).`);
  }
  const doc = parsed as Partial<Cvm13File>;
  if (typeof parsed !== 'object' || parsed === null || doc.schema !== CVM13_SCHEMA) {
    throw new StoreError(
      'invalid-request',
      'invalid',
      `${jsonFile}: not a cvm13 file (expected "schema": "${CVM13_SCHEMA}").`,
    );
  }
  if (typeof doc.images !== 'object' || doc.images === null || Array.isArray(doc.images)) {
    throw new StoreError('invalid-request', 'invalid', `${jsonFile}: "images" must be an object of image entries.`);
  }
  if (Object.keys(doc.images).length > MAX_CVM13_ENTRIES) {
    throw new StoreError(
      'invalid-request',
      'invalid',
      `${jsonFile}: more than ${MAX_CVM13_ENTRIES} image entries; split the file.`,
    );
  }
  const top = spacingOf(doc.pixel_spacing_mm, '"pixel_spacing_mm"');
  if (typeof top === 'string')
    throw new StoreError('invalid-request', 'invalid', `${jsonFile}: ${top}; nothing was imported.`);
  return doc as Cvm13File;
}

/** [row, column] mm per pixel, both finite and plausible; null when absent; a message when unusable. */
export function spacingOf(value: unknown, what: string): [number, number] | null | string {
  if (value === undefined || value === null) return null;
  const shown = (() => {
    try {
      return JSON.stringify(value).slice(0, 60);
    } catch {
      return String(value);
    }
  })();
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return `${what} must be [row, column] in mm as two numbers, got ${shown}`;
  }
  const [row, col] = value as [number, number];
  if (row < MIN_SPACING_MM || col < MIN_SPACING_MM || row > MAX_SPACING_MM || col > MAX_SPACING_MM) {
    return `${what} ${shown} is outside ${MIN_SPACING_MM} to ${MAX_SPACING_MM} mm per pixel`;
  }
  return [row, col];
}

/**
 * The entry's points: an object of landmark name -> [x, y] with finite numbers, all 13 landmarks or an
 * explicit partial set (`"partial_reason"` says why some are missing). `size` bounds the coordinates.
 */
export function checkPoints(entry: Cvm13Image, size: readonly [number, number] | null): LandmarkPoints | string {
  const raw = entry.points as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return '"points" must be an object of landmark name -> [x, y]';
  const points: Record<string, [number, number]> = {};
  for (const [name, p] of Object.entries(raw)) {
    if (!isLandmarkName(name)) return `unknown landmark "${name.slice(0, 40)}"`;
    if (!Array.isArray(p) || p.length !== 2 || !p.every((c) => typeof c === 'number' && Number.isFinite(c)))
      return `${name} must be [x, y] with two finite numbers`;
    const [x, y] = p as [number, number];
    if (Math.abs(x) > 1e6 || Math.abs(y) > 1e6) return `${name} (${x}, ${y}) is not an image position`;
    if (size && (x < -1 || y < -1 || x > size[0] + 1 || y > size[1] + 1)) {
      return `${name} (${x}, ${y}) lies outside the ${size[0]}x${size[1]} image`;
    }
    points[name] = [x, y];
  }
  const count = Object.keys(points).length;
  if (count === 0) return 'has no landmarks ("points" is empty)';
  if (count < LANDMARK_NAMES.length) {
    const reason = (entry as { partial_reason?: unknown }).partial_reason;
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500) {
      const missing = LANDMARK_NAMES.filter((n) => points[n] === undefined);
      return `has ${count} of the ${LANDMARK_NAMES.length} landmarks (missing ${missing.join(', ')}); a partial set needs "partial_reason" saying why`;
    }
  }
  return points as LandmarkPoints;
}

export type Cvm13ImportOptions = ImagePathPolicy;

/**
 * Attaches the landmark sets of a cvm13 file to the images they name (matched by content hash; an image not
 * yet stored is imported). Content-addressed: a set equal to any version this image already got from an
 * import (or to its current landmarks) adds nothing, so importing the same file twice, or again after an
 * import was killed half-way, gives the same database as one complete run. Each entry is checked on its
 * own: a bad one is reported and skipped, never stopping the others. Image paths are confined
 * (main/services/paths.ts).
 */
export async function importCvm13(
  store: Store,
  jsonFile: string,
  author: string,
  options: Cvm13ImportOptions = {},
): Promise<Cvm13EntryResult[]> {
  const doc = parseCvm13(jsonFile);
  const topSpacing = spacingOf(doc.pixel_spacing_mm, '"pixel_spacing_mm"') as [number, number] | null;
  const results: Cvm13EntryResult[] = [];
  for (const [id, entry] of Object.entries(doc.images)) {
    const failEntry = (message: string): void => {
      results.push({ id, ok: false, message: `${path.basename(jsonFile)}, image "${id.slice(0, 100)}": ${message}` });
    };
    try {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        failEntry('the entry must be an object with "image" and "points"');
        continue;
      }
      const spacing =
        entry.pixel_spacing_mm === undefined || entry.pixel_spacing_mm === null
          ? topSpacing
          : spacingOf(entry.pixel_spacing_mm, '"pixel_spacing_mm"');
      if (typeof spacing === 'string') {
        failEntry(spacing);
        continue;
      }
      // The shape of the points before anything is read or stored; their range once the size is known.
      const shape = checkPoints(entry, null);
      if (typeof shape === 'string') {
        failEntry(shape);
        continue;
      }
      let image: { bytes: Buffer };
      try {
        image = readDataSetImage(jsonFile, entry.image, options);
      } catch (error) {
        if (error instanceof DataSetPathError || error instanceof ImageDecodeError) {
          failEntry(error.message);
          continue;
        }
        throw error;
      }
      const bytes = image.bytes;
      let found = store.findImageBySha(sha256Of(bytes));
      let imageImported = false;
      if (!found) {
        const isotropic = spacing && spacing[0] === spacing[1] ? spacing[0] : undefined;
        const imported = await importFile(store, typeof entry.image === 'string' ? entry.image : id, bytes, {
          author,
          spacingMm: isotropic,
        });
        if (!imported.ok) {
          failEntry(imported.error.message);
          continue;
        }
        found = { imageId: imported.imageId, studyId: imported.studyId };
        imageImported = true;
      }
      const row = store.imageRow(found.imageId);
      const points = checkPoints(entry, [row.width, row.height]);
      if (typeof points === 'string') {
        failEntry(points);
        continue;
      }
      const fromPrediction = Array.isArray(entry.filled_from_prediction)
        ? [
            ...new Set(
              entry.filled_from_prediction.filter(
                (n): n is LandmarkName => typeof n === 'string' && isLandmarkName(n) && points[n] !== undefined,
              ),
            ),
          ]
        : [];
      const study = store.loadStudy(found.imageId);
      const same = (v: { points: LandmarkPoints; fromPrediction: readonly string[] | null }): boolean =>
        samePoints(v.points, points) && sameNames(v.fromPrediction ?? [], fromPrediction);
      const latest = study.latest;
      if ((latest && same(latest)) || study.history.some((v) => v.kind === 'import' && same(v))) {
        results.push({ id, ok: true, imageId: found.imageId, outcome: 'unchanged', imageImported });
        continue;
      }
      store.addVersion(found.imageId, {
        kind: 'import',
        points,
        author,
        fromPrediction,
        note: `imported from ${path.basename(jsonFile)} (image "${id.slice(0, 100)}")`,
      });
      results.push({ id, ok: true, imageId: found.imageId, outcome: 'added', imageImported });
    } catch (error) {
      // Never let one entry abort the rest: report it and go on.
      failEntry(error instanceof Error ? error.message : String(error));
    }
  }
  return results;
}

const sameNames = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((n, i) => n === [...b].sort()[i]);
