/**
 * Stored studies as use cases: import (single and batch, idempotent by content hash), worklist, load,
 * save an edit (one transaction per gesture), revert, review, calibration, settings, and the record of a
 * model run. `studyHandlers` gives the renderer-facing methods; the rest is for the CLI and inference.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { OpenedImage } from '../../core/api/image';
import { fail, ok, type ErrorCode, type Result } from '../../core/api/result';
import type {
  CalibrationResponse,
  ImageRequest,
  ImportFileResult,
  ImportFilesRequest,
  ImportFilesResponse,
  LandmarkPoints,
  ListStudiesRequest,
  ListStudiesResponse,
  ReviewState,
  RevertLandmarksRequest,
  SaveLandmarksRequest,
  SavedVersion,
  ExportDatasetRequest,
  ExportDatasetResponse,
  SetCalibrationRequest,
  SetPatientInfoRequest,
  SetReviewStatusRequest,
  SetSettingsRequest,
  Settings,
  StageSummary,
  StudyDetail,
} from '../../core/api/studies';
import { toLandmarkSet } from '../../core/api/studies';
import { assess } from '../../core/cvm/index';
import { approvalDecision, isBoneAgeStudy, modelQualityOf, type ApprovalInput } from '../../core/review/approval';
import type { RadiographKindView } from '../../core/api/boneage';
import { approveBoneAge, latestBoneAge, readKind } from '../store/boneage';
import { parseSex } from '../../core/boneage/index';
import type { LandmarkName } from '../../core/landmarks/index';
import { calibrate, type CalibrationEntry } from '../../core/geometry/calibration';
import { imagePoint } from '../../core/geometry/index';
import { ImageDecodeError } from '../dicom/index';
import { decodeInWorker, decodeWorkerCount, readDerivedInWorker } from '../dicom/decoder-pool';
import { PIXEL_CACHE_BYTES } from '../dicom/limits';
import { checkReadableImageFile, readImageFileSafely } from '../dicom/read-file';
import { removeDerivedPixels } from '../dicom/pixel-cache';
import { StoreError, guardStorage } from '../store/errors';
import { effectiveSpacingOf } from '../store/rows';
import { IMAGES_DIR_NAME, Store, type ModelRunInput } from '../store/store';
import type { ServiceContext } from './context';
import { exportCsv, exportCvm13 } from './exchange';
import { writeOutput } from './write-output';

// ---- one store per data folder in this process ------------------------------------------------------------

const stores = new Map<string, Store>();

/** The process's store for the context's data folder, opened (and locked) on first use. */
export function storeFor(ctx: Pick<ServiceContext, 'dataDir' | 'mode'>): Store {
  const key = path.resolve(ctx.dataDir);
  let store = stores.get(key);
  if (!store) {
    // In the app, imports and model runs are recorded in a worker thread: their commits wait for the disk
    // (docs/persistence.md, "Main-thread blocking"). A command has no UI to keep answering.
    store = Store.open(key, {
      purpose: ctx.mode === 'cli' ? 'cvm command' : `app (${ctx.mode})`,
      writerWorker: ctx.mode !== 'cli',
    });
    stores.set(key, store);
  }
  return store;
}

/** Closes every store this process opened (on quit), releasing the data-folder locks. */
export function closeStudyStores(): void {
  for (const store of stores.values()) store.close();
  stores.clear();
  pixelCache.clear();
}

// ---- errors as values ----------------------------------------------------------------------------------------

function failure(error: unknown): { code: ErrorCode; message: string } | null {
  if (error instanceof StoreError) return { code: error.code, message: error.message };
  if (error instanceof ImageDecodeError) return { code: error.code, message: error.message };
  return null;
}

async function guarded<T>(fn: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return ok(await fn());
  } catch (error) {
    const known = failure(error);
    if (known) return fail(known.code, known.message);
    throw error;
  }
}

// ---- import --------------------------------------------------------------------------------------------------

const EXTENSION = { dicom: 'dcm', png: 'png', jpeg: 'jpg', tiff: 'tif' } as const;

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes `bytes` to `file` via a temporary file, fsync and rename, so the copy is either whole or absent. */
function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const temp = `${file}.${process.pid}.tmp`;
  guardStorage('copy the image into the data folder', file, () => {
    try {
      const fd = openSync(temp, 'w');
      try {
        let written = 0;
        while (written < bytes.byteLength) written += writeSync(fd, bytes, written);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, file);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
  });
}

export interface ImportOptions {
  readonly spacingMm?: number;
  readonly author: string;
}

/** A file read, hashed and decoded (its derived pixel copy written), not yet in the database. */
export interface PreparedImport {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  /** Null when the image was already stored when it was prepared. */
  readonly opened: OpenedImage | null;
}

/** The part of an import that may run for several files at once: hashing and decoding in a decoder worker. */
async function prepareImport(store: Store, name: string, bytes: Uint8Array): Promise<PreparedImport> {
  const sha256 = sha256Of(bytes);
  if (store.findImageBySha(sha256)) return { name, bytes, sha256, opened: null };
  // The worker also writes the derived pixel copy, so the image is never decoded again (pixel-cache.ts).
  const opened = await decodeInWorker(name, bytes, undefined, { dataDir: store.dataDir, sourceSha256: sha256 });
  return { name, bytes, sha256, opened };
}

/** The part of an import that runs one file at a time, in the order given: the copy on disk, then the row. */
async function commitImport(store: Store, p: PreparedImport, options: ImportOptions): Promise<ImportFileResult> {
  const { name, bytes, sha256 } = p;
  const existing = store.findImageBySha(sha256);
  if (existing) return { fileName: name, ok: true, ...existing, duplicate: true };
  const opened =
    p.opened ?? (await decodeInWorker(name, bytes, undefined, { dataDir: store.dataDir, sourceSha256: sha256 }));
  const storedPath = path.posix.join(IMAGES_DIR_NAME, `${sha256}.${EXTENSION[opened.info.format]}`);
  const absolute = store.absolutePath(storedPath);
  const copiedNow = !existsSync(absolute);
  if (copiedNow) writeFileAtomic(absolute, bytes);
  try {
    const saved = await store.insertImageOffThread({
      sha256,
      storedPath,
      originalName: name,
      byteSize: bytes.byteLength,
      info: opened.info,
      enteredSpacingMm: options.spacingMm ?? null,
      author: options.author,
    });
    if (!saved.duplicate) rememberPixels(store, saved.imageId, opened);
    const warnings = opened.info.warnings ?? [];
    return { fileName: name, ok: true, ...saved, ...(warnings.length > 0 ? { warnings } : {}) };
  } catch (error) {
    if (copiedNow) {
      rmSync(absolute, { force: true });
      removeDerivedPixels(store.dataDir, sha256);
    }
    throw error;
  }
}

/** An error of the decoder or the store as a failed result; anything else is unexpected and thrown. */
async function asImportResult(name: string, work: () => Promise<ImportFileResult>): Promise<ImportFileResult> {
  try {
    return await work();
  } catch (error) {
    const known = failure(error);
    if (known) return { fileName: name, ok: false, error: known };
    throw error;
  }
}

/**
 * Imports one file: the same bytes give the same image (nothing decoded, copied or added again); a file
 * that does not decode leaves nothing behind; the copy is on disk before the database row is committed.
 */
export async function importFile(
  store: Store,
  fileName: string,
  bytes: Uint8Array,
  options: ImportOptions,
): Promise<ImportFileResult> {
  const name = path.basename(fileName);
  return asImportResult(name, async () => commitImport(store, await prepareImport(store, name, bytes), options));
}

/**
 * An import in two steps, for a caller that looks at the decoded pixels before it decides to store the file
 * (the PACS pull runs the image classifier on them): the file is decoded once, in a decoder worker.
 */
export interface FileImporter {
  /** Hashes and decodes the file (opened: null when the same bytes are already stored). */
  decode(store: Store, fileName: string, bytes: Uint8Array): Promise<DecodedImport>;
  /** Stores a decoded file, as importFile does. */
  commit(store: Store, decoded: DecodedImport, options: ImportOptions): Promise<ImportFileResult>;
  /** Drops a decoded file that will not be stored: the derived pixel copy its decode wrote goes too. */
  discard(store: Store, decoded: DecodedImport): void;
}

export type DecodedImport = PreparedImport;

export const fileImporter: FileImporter = {
  decode: (store, fileName, bytes) => prepareImport(store, path.basename(fileName), bytes),
  commit: (store, decoded, options) => asImportResult(decoded.name, () => commitImport(store, decoded, options)),
  discard: (store, decoded) => {
    if (decoded.opened && !store.findImageBySha(decoded.sha256)) removeDerivedPixels(store.dataDir, decoded.sha256);
  },
};

export interface ImportProgress {
  readonly done: number;
  readonly total: number;
  readonly fileName: string;
}

/** How many files of a batch are read and decoded at once: one per decoder worker (decodeWorkerCount). */
export function decodeParallelism(): number {
  return decodeWorkerCount();
}

/**
 * Imports files in the order given; one bad file does not stop the others. Up to decodeParallelism() files
 * are read and decoded at once (in the decoder workers) while the earlier ones are stored, one at a time and
 * in order: the results, the image ids and the database are those of importing the files one by one.
 */
export async function importFiles(
  store: Store,
  files: ReadonlyArray<{ name: string; bytes: Uint8Array } | { name: string; path: string }>,
  options: ImportOptions,
  onProgress: (p: ImportProgress) => void = () => {},
  parallel = decodeParallelism(),
): Promise<ImportFileResult[]> {
  type Prepared =
    | { readonly ok: true; readonly prepared: PreparedImport }
    | { readonly ok: false; readonly result: ImportFileResult };
  const prepare = async (file: (typeof files)[number]): Promise<Prepared> => {
    const name = path.basename(file.name);
    let bytes: Uint8Array;
    if ('bytes' in file) bytes = file.bytes;
    else {
      try {
        // Regular files only, within the size limit: a FIFO or a device in a folder is refused at once.
        bytes = readImageFileSafely(file.path, file.name);
      } catch (error) {
        const known = failure(error);
        return {
          ok: false,
          result: {
            fileName: file.name,
            ok: false,
            error: known ?? { code: 'not-found', message: `${file.path}: ${(error as Error).message}` },
          },
        };
      }
    }
    try {
      return { ok: true, prepared: await prepareImport(store, name, bytes) };
    } catch (error) {
      const known = failure(error);
      if (known) return { ok: false, result: { fileName: name, ok: false, error: known } };
      throw error;
    }
  };
  const width = Math.max(1, Math.floor(parallel));
  const started = new Map<number, Promise<Prepared>>();
  const start = (i: number): void => {
    const file = files[i];
    if (file === undefined || started.has(i)) return;
    const p = prepare(file);
    p.catch(() => undefined); // an unexpected error is thrown when its turn comes
    started.set(i, p);
  };
  const results: ImportFileResult[] = [];
  for (const [i, file] of files.entries()) {
    for (let j = i; j < i + width; j++) start(j);
    const p = await (started.get(i) as Promise<Prepared>);
    started.delete(i);
    results.push(
      p.ok ? await asImportResult(p.prepared.name, () => commitImport(store, p.prepared, options)) : p.result,
    );
    onProgress({ done: i + 1, total: files.length, fileName: file.name });
  }
  return results;
}

// ---- pixels: the last few images stay in memory; the others are read from their derived copy -------------------

const PIXEL_CACHE_SIZE = 3;
const pixelCache = new Map<string, OpenedImage>();

/** The cache holds at most PIXEL_CACHE_SIZE images and PIXEL_CACHE_BYTES of pixel data, oldest out first. */
function rememberPixels(store: Store, imageId: number, opened: OpenedImage): void {
  const key = `${store.file}#${imageId}`;
  pixelCache.delete(key);
  if (opened.pixels.data.byteLength > PIXEL_CACHE_BYTES) return;
  pixelCache.set(key, opened);
  const bytes = (): number => [...pixelCache.values()].reduce((sum, o) => sum + o.pixels.data.byteLength, 0);
  while (pixelCache.size > PIXEL_CACHE_SIZE || bytes() > PIXEL_CACHE_BYTES) {
    const oldest = pixelCache.keys().next();
    if (oldest.done) break;
    pixelCache.delete(oldest.value);
  }
}

/**
 * The display pixels of a stored image; `info.spacing` is the effective spacing. From memory (the last few),
 * else from the derived copy written at import (hash-checked), else by decoding the stored file, whose
 * content hash is checked then, and writing the derived copy again (missing after a restore, or damaged).
 */
export async function loadImagePixels(store: Store, imageId: number): Promise<OpenedImage> {
  const row = store.imageRow(imageId);
  const key = `${store.file}#${imageId}`;
  let opened = pixelCache.get(key);
  if (!opened) {
    // One read per image at a time: a batch that asked for the next image ahead (prefetchImagePixels) waits
    // for that read instead of starting a second one.
    let loading = pixelsLoading.get(key);
    if (!loading) {
      loading = readStoredPixels(store, row);
      pixelsLoading.set(key, loading);
      const done = (): void => {
        if (pixelsLoading.get(key) === loading) pixelsLoading.delete(key);
      };
      loading.then(done, done);
    }
    opened = await loading;
  }
  rememberPixels(store, imageId, opened);
  return { ...opened, info: { ...opened.info, spacing: effectiveSpacingOf(row) } };
}

const pixelsLoading = new Map<string, Promise<OpenedImage>>();

/**
 * Starts loading the pixels of images a batch will need next, so that their reading and decoding (in the
 * decoder workers) overlaps the analysis of the current one; a failure is reported when the image's turn comes.
 */
export function prefetchImagePixels(store: Store, imageIds: readonly number[]): void {
  for (const imageId of imageIds) loadImagePixels(store, imageId).catch(() => undefined);
}

/** The stored image's pixels from its derived copy, else by decoding the stored file (hash-checked). */
async function readStoredPixels(store: Store, row: ReturnType<Store['imageRow']>): Promise<OpenedImage> {
  let opened: OpenedImage;
  const file = store.absolutePath(row.stored_path);
  const cannotRead = (why: string) =>
    new StoreError(
      'storage',
      'missing',
      `The stored copy of ${row.original_name} (${file}) cannot be read: ${why}. Restore the images folder from a backup.`,
    );
  // Read and checked in the decoder worker: inflating and hashing 10 MB of pixels stays off the main thread.
  const derived = await readDerivedInWorker(row.original_name, { dataDir: store.dataDir, sourceSha256: row.sha256 });
  if (derived !== null) {
    // The stored file stays the record: it must still be there, whole in size (its hash is checked whenever it is
    // decoded).
    let size: number;
    try {
      size = checkReadableImageFile(file, row.original_name);
    } catch (error) {
      throw cannotRead(error instanceof ImageDecodeError ? error.problem : (error as Error).message);
    }
    if (size !== row.byte_size) {
      throw new StoreError(
        'storage',
        'corrupt',
        `The stored copy of ${row.original_name} (${file}) has changed since import (${size} bytes, ${row.byte_size} at import).`,
      );
    }
    opened = derived;
  } else {
    let bytes: Uint8Array;
    try {
      bytes = readImageFileSafely(file, row.original_name);
    } catch (error) {
      throw cannotRead(error instanceof ImageDecodeError ? error.problem : (error as Error).message);
    }
    if (sha256Of(bytes) !== row.sha256) {
      throw new StoreError(
        'storage',
        'corrupt',
        `The stored copy of ${row.original_name} (${file}) has changed since import (content hash differs).`,
      );
    }
    const derived = { dataDir: store.dataDir, sourceSha256: row.sha256 };
    // Read as it was shown at import, where its landmarks lie: turned by its orientation tag where that tag turned
    // it then; as stored otherwise, which is the same for a file without a tag and is how every image imported
    // before tags were applied (2026-12-04) was shown, whatever its tag says (a turn, a half turn or a mirror).
    // Likewise a multi-page TIFF's page: the one chosen at import, or the first for an image imported before.
    const shown = store.shownAtImport(row.id);
    const asImported = {
      ...(shown.turnedByTag ? {} : { ignoreOrientationTag: true }),
      ...(shown.pageShown ? {} : { firstTiffPage: true }),
    };
    opened = await decodeInWorker(row.original_name, bytes, asImported, derived);
  }
  return opened;
}

// ---- model runs ----------------------------------------------------------------------------------------------

export interface ModelRunRecord extends Omit<ModelRunInput, 'landmarks' | 'quality'> {
  /** Predicted positions, image pixels. */
  readonly landmarks: LandmarkPoints;
  readonly quality?: unknown;
}

/**
 * Records a model's prediction for an image and creates its 'ai' landmark version (current unless a human
 * already saved a version). For the inference engine.
 */
export async function recordModelRun(
  ctx: Pick<ServiceContext, 'dataDir' | 'mode'>,
  imageId: number,
  run: ModelRunRecord,
): Promise<Result<{ runId: number; versionId: number; version: number; stage: StageSummary }>> {
  return guarded(() => {
    const store = storeFor(ctx);
    return store.recordModelRunOffThread(imageId, run, store.userName());
  });
}

// ---- review ---------------------------------------------------------------------------------------------------

/** What the approval rules look at for an image, read from the store. */
export function approvalInputFor(store: Store, imageId: number): ApprovalInput {
  const detail = store.loadStudy(imageId);
  const landmarks = detail.latest ? toLandmarkSet(detail.latest.points) : null;
  const spacing = detail.info.spacing ? { rowMm: detail.info.spacing.rowMm, colMm: detail.info.spacing.colMm } : null;
  const assessment = landmarks && Object.keys(landmarks).length === 13 ? assess(landmarks, spacing) : null;
  return {
    landmarks,
    ai: detail.ai ? toLandmarkSet(detail.ai.points) : null,
    spacing,
    quality: modelQualityOf(detail.ai?.modelRun?.quality),
    stageError: assessment && !assessment.ok ? assessment.error.message : null,
    imageKind: kindForApproval(readKind(store, imageId)),
    boneAge: {
      latest: latestBoneAge(store, imageId),
      sex: parseSex(detail.info.meta.sex),
      chronologicalAgeYears: detail.info.meta.ageYears,
    },
  };
}

/** The stored radiograph kind (main/services/boneage.ts classifies it) in the approval rules' terms. */
export function kindForApproval(view: RadiographKindView | null): ApprovalInput['imageKind'] {
  return view ? { kind: view.kind, uncertain: view.uncertain, probability: view.probabilities[view.kind] } : null;
}

/**
 * Approves only what the rules allow: refused with the reasons, or (for "check") only with the user's
 * confirmation, which is recorded in the audit log. Other status changes are always allowed.
 */
export function setReviewStatusChecked(store: Store, request: SetReviewStatusRequest): ReviewState {
  const author = store.userName();
  if (request.status !== 'approved') return store.setReviewStatus(request.imageId, request.status, author);
  const input = approvalInputFor(store, request.imageId);
  const decision = approvalDecision(input);
  // A hand-wrist study: what is approved is its latest bone age (recorded with the approval in the audit log).
  const boneAge = isBoneAgeStudy(input) ? latestBoneAge(store, request.imageId) : null;
  const approve = (confirmation?: string): ReviewState =>
    boneAge
      ? approveBoneAge(store, request.imageId, boneAge, author, confirmation)
      : store.setReviewStatus(request.imageId, 'approved', author, confirmation);
  if (decision.kind === 'refused') {
    throw new StoreError('invalid-request', 'invalid', `Cannot approve: ${decision.reasons.join(' ')}`);
  }
  if (decision.kind === 'confirm') {
    const confirmation = request.confirmation?.trim();
    if (!confirmation) {
      throw new StoreError(
        'invalid-request',
        'invalid',
        `Approving needs your confirmation: ${decision.reasons.join(' ')}`,
      );
    }
    return approve(confirmation);
  }
  return approve();
}

// ---- data-set export ----------------------------------------------------------------------------------------------

/** Writes the same file `cvm export` writes, into `folder` (default: `<data folder>/exports`). */
export function exportDataset(
  store: Store,
  request: ExportDatasetRequest,
  onProgress: (done: number, total: number) => void = () => {},
): ExportDatasetResponse {
  const folder = request.folder ? path.resolve(request.folder) : path.join(store.dataDir, 'exports');
  if (request.folder && !path.isAbsolute(request.folder)) {
    throw new StoreError(
      'invalid-request',
      'invalid',
      `The export folder must be a full path, not "${request.folder}".`,
    );
  }
  if (!request.folder) guardStorage('create the exports folder', folder, () => mkdirSync(folder, { recursive: true }));
  let isDir = false;
  try {
    isDir = statSync(folder).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new StoreError('not-found', 'not-found', `The export folder ${folder} does not exist.`);
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  const scope = request.approvedOnly ? 'approved' : 'all';
  const base = `cvm-${request.format === 'cvm13' ? 'cvm13' : 'measurements'}-${scope}-${stamp}`;
  let file = path.join(folder, `${base}.${request.format === 'cvm13' ? 'json' : 'csv'}`);
  for (let i = 2; existsSync(file); i++)
    file = path.join(folder, `${base}-${i}.${request.format === 'cvm13' ? 'json' : 'csv'}`);
  return writeExportFile(store, file, {
    format: request.format,
    approvedOnly: request.approvedOnly,
    copyImages: request.copyImages ?? false,
    onProgress,
  });
}

export interface ExportFileOptions {
  readonly format: 'cvm13' | 'csv';
  readonly approvedOnly: boolean;
  /** cvm13: copy the images beside the file (<name>-images/) instead of pointing into the data folder. */
  readonly copyImages?: boolean;
  /** csv: patient name and id columns (left out by default). */
  readonly withIdentifiers?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Writes one export file: the app's export (exportDataset) and `cvm export` both end here. */
export function writeExportFile(store: Store, file: string, options: ExportFileOptions): ExportDatasetResponse {
  const onProgress = options.onProgress ?? (() => {});
  if (options.format === 'cvm13') {
    const { document, count } = exportCvm13(store, file, {
      approvedOnly: options.approvedOnly,
      copyImages: options.copyImages ?? false,
      onProgress,
    });
    writeOutput(file, `${JSON.stringify(document, null, 1)}\n`);
    return { file, count };
  }
  const { csv, count } = exportCsv(store, {
    approvedOnly: options.approvedOnly,
    ...(options.withIdentifiers ? { withIdentifiers: true } : {}),
  });
  onProgress(count, count);
  writeOutput(file, csv);
  return { file, count };
}

/**
 * An export from a data folder through a read-only connection of its own: works while the app (or another
 * command) holds the folder's write lock (`cvm export`).
 */
export function exportFromDataFolder(dataDir: string, file: string, options: ExportFileOptions): ExportDatasetResponse {
  const store = Store.open(dataDir, { readonly: true });
  try {
    return writeExportFile(store, file, options);
  } finally {
    store.close();
  }
}

// ---- renderer-facing handlers --------------------------------------------------------------------------------

export interface StudyHandlers {
  importFiles(request: ImportFilesRequest): Promise<Result<ImportFilesResponse>>;
  listStudies(request: ListStudiesRequest): Promise<Result<ListStudiesResponse>>;
  loadStudy(request: ImageRequest): Promise<Result<StudyDetail>>;
  loadImagePixels(request: ImageRequest): Promise<Result<OpenedImage>>;
  saveLandmarks(request: SaveLandmarksRequest): Promise<Result<SavedVersion>>;
  revertLandmarks(request: RevertLandmarksRequest): Promise<Result<SavedVersion>>;
  setReviewStatus(request: SetReviewStatusRequest): Promise<Result<ReviewState>>;
  setCalibration(request: SetCalibrationRequest): Promise<Result<CalibrationResponse>>;
  setPatientInfo(request: SetPatientInfoRequest): Promise<Result<StudyDetail>>;
  exportDataset(request: ExportDatasetRequest): Promise<Result<ExportDatasetResponse>>;
  getSettings(request: Record<string, never>): Promise<Result<Settings>>;
  setSettings(request: SetSettingsRequest): Promise<Result<Settings>>;
}

export function studyHandlers(ctx: ServiceContext): StudyHandlers {
  const store = (): Store => storeFor(ctx);
  return {
    importFiles: (request) =>
      guarded(async () => {
        const s = store();
        const results = await importFiles(
          s,
          request.files,
          { spacingMm: request.spacingMm, author: s.userName() },
          (progress) => ctx.emit('importProgress', progress),
        );
        return { results };
      }),
    listStudies: (request) => guarded(() => store().listStudiesOffThread(request)),
    loadStudy: (request) => guarded(() => store().loadStudy(request.imageId)),
    loadImagePixels: (request) => guarded(() => loadImagePixels(store(), request.imageId)),
    saveLandmarks: (request) =>
      guarded(() => {
        const s = store();
        const hasPrevious = request.baseVersionId !== null;
        return s.addVersion(request.imageId, {
          kind: hasPrevious ? 'edit' : 'manual',
          points: request.landmarks,
          author: s.userName(),
          baseVersionId: request.baseVersionId,
          moved: request.moved as LandmarkName[] | undefined,
          note: request.note,
        });
      }),
    revertLandmarks: (request) =>
      guarded(() => {
        const s = store();
        return s.revert(request.imageId, request.toVersionId, s.userName(), request.baseVersionId);
      }),
    setReviewStatus: (request) => guarded(() => setReviewStatusChecked(store(), request)),
    setPatientInfo: (request) =>
      guarded(() => {
        const s = store();
        s.setPatientInfo(request.imageId, { ageYears: request.ageYears, sex: request.sex }, s.userName());
        return s.loadStudy(request.imageId);
      }),
    exportDataset: (request) =>
      guarded(() => exportDataset(store(), request, (done, total) => ctx.emit('exportProgress', { done, total }))),
    setCalibration: (request) =>
      guarded(() => {
        const s = store();
        if (request.calibration === null) return s.setCalibration(request.imageId, null, s.userName());
        const entry = calibrationEntryOf(request.calibration);
        const fileSpacing = s.loadStudy(request.imageId).fileSpacing;
        const outcome = calibrate(entry, fileSpacing ? fileSpacing.rowMm / fileSpacing.colMm : 1);
        if (!outcome.ok) throw new StoreError('invalid-request', 'invalid', outcome.error.message);
        const { rowMm, colMm } = outcome.value.spacing;
        return s.setCalibration(
          request.imageId,
          { rowMm, colMm, method: entry.method, detail: outcome.value.detail },
          s.userName(),
        );
      }),
    getSettings: () => guarded(() => ({ userName: store().userName() })),
    setSettings: (request) =>
      guarded(() => {
        const s = store();
        const userName = request.userName.trim();
        if (!userName) throw new StoreError('invalid-request', 'invalid', 'The user name must not be blank.');
        s.setSetting('userName', userName, s.userName());
        return { userName };
      }),
  };
}

/** The request's fields as one of the two entries core/geometry/calibration knows, or a clear refusal. */
function calibrationEntryOf(c: NonNullable<SetCalibrationRequest['calibration']>): CalibrationEntry {
  if (c.method === 'entered') {
    if (c.spacingMm === undefined)
      throw new StoreError('invalid-request', 'invalid', 'Enter the pixel spacing in mm per pixel.');
    return { method: 'entered', spacingMm: c.spacingMm };
  }
  if (!c.a || !c.b || c.knownMm === undefined) {
    throw new StoreError(
      'invalid-request',
      'invalid',
      'Mark two points on the image and enter the known distance between them in mm.',
    );
  }
  return { method: 'two-points', a: imagePoint(c.a.x, c.a.y), b: imagePoint(c.b.x, c.b.y), knownMm: c.knownMm };
}
