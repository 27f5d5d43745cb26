/**
 * The workstation's database: one SQLite file per data folder, written by one process (the lock file) and
 * readable by any number of others (WAL). Every write is one short IMMEDIATE transaction, audit-logged.
 *
 * `Store` opens the file and composes the repositories, one per family of tables (docs/persistence.md):
 * settings, images (patients, studies, images), versions (landmark versions, model runs), stages, review
 * (review status, audit log), calibration, study queries (worklist, study detail) and export records. Its
 * methods are the repositories' under the names callers have always used; new SQL goes into a repository.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type {
  CalibrationResponse,
  ListStudiesRequest,
  ListStudiesResponse,
  ReviewState,
  ReviewStatus,
  SavedVersion,
  StageSummary,
  StudyDetail,
} from '../../core/api/studies';
import type { RadiographKindView } from '../../core/api/boneage';
import { writeKind } from './boneage';
import { CalibrationRepository, type CalibrationInput } from './calibration';
import { Connection } from './connection';
import { openDatabase, type Db, type OpenOptions } from './database';
import { StoreError, guardStorage } from './errors';
import { ExportRepository, type ExportRecord } from './export-records';
import { IMAGES_DIR_NAME, ImageRepository, storedPathProblem, type NewImage } from './images';
import { acquireDataDirLock, type DataDirLock } from './lock';
import { ReviewRepository, type AuditRow } from './review';
import type { ImageRow } from './rows';
import { SettingsRepository } from './settings';
import type { SqlTimingOptions } from './sql-timing';
import { stageRecordOf, type StageFn } from './stage';
import { StageRepository } from './stages';
import { StudyQueries } from './study-queries';
import { VersionRepository, type ModelRunInput, type NewVersion } from './versions';
import { StoreWorker } from './writer';

export type { CalibrationInput } from './calibration';
export type { ExportRecord } from './export-records';
export { IMAGES_DIR_NAME, storedPathProblem, type NewImage } from './images';
export { samePoints } from './rows';
export type { ModelRunInput, NewVersion } from './versions';

export const DATABASE_FILE_NAME = 'cvm.sqlite';

export interface StoreOpenOptions extends Pick<OpenOptions, 'migrateTo' | 'migrations'> {
  /** Read-only: no lock, no migrations; for export and backup while the app runs. */
  readonly readonly?: boolean;
  /** Shown to a second process that finds the folder locked, e.g. "app" or "cvm import". */
  readonly purpose?: string;
  readonly stageOf?: StageFn;
  /** Threshold, log and observer of the SQL timing (default: CVM_SLOW_SQL_MS or 16 ms, to stderr). */
  readonly sqlTiming?: SqlTimingOptions;
  /**
   * Record imports and model runs in a worker thread (`insertImageOffThread`, `recordModelRunOffThread`), so
   * their commits do not block this thread, and read the worklist in another (`listStudiesOffThread`): the
   * app's main process (main/services/studies.ts).
   */
  readonly writerWorker?: boolean;
  /** The store writer's own connection: this process already holds the data-folder lock (writer-worker.ts). */
  readonly lockHeldByThisProcess?: boolean;
}

export class Store {
  /** The connection the repositories share (statement cache, transactions, audit rows). */
  readonly sql: Connection;
  readonly settings: SettingsRepository;
  readonly images: ImageRepository;
  readonly stages: StageRepository;
  readonly review: ReviewRepository;
  readonly versions: VersionRepository;
  readonly calibration: CalibrationRepository;
  readonly queries: StudyQueries;
  readonly exports: ExportRepository;
  private writer: StoreWorker | null = null;
  private reader: StoreWorker | null = null;

  private constructor(
    readonly dataDir: string,
    readonly file: string,
    readonly db: Db,
    private readonly lock: DataDirLock | null,
    stageOf: StageFn,
    sqlTiming: SqlTimingOptions,
  ) {
    this.sql = new Connection(db, file, sqlTiming);
    this.settings = new SettingsRepository(this.sql);
    this.images = new ImageRepository(this.sql);
    this.stages = new StageRepository(this.sql, this.images, stageOf);
    this.review = new ReviewRepository(this.sql, this.images);
    this.versions = new VersionRepository(this.sql, this.images, this.stages, this.review);
    this.calibration = new CalibrationRepository(this.sql, this.images, this.versions, this.stages, this.review);
    this.queries = new StudyQueries(this.sql, this.images, this.versions);
    this.exports = new ExportRepository(this.sql);
  }

  /** Opens `<dataDir>/cvm.sqlite`, creating the folder and the database when absent (unless read-only). */
  static open(dataDir: string, options: StoreOpenOptions = {}): Store {
    const dir = path.resolve(dataDir);
    const file = path.join(dir, DATABASE_FILE_NAME);
    const readonly = options.readonly ?? false;
    let lock: DataDirLock | null = null;
    if (!readonly && !options.lockHeldByThisProcess) {
      guardStorage('create the data folder', dir, () =>
        mkdirSync(path.join(dir, IMAGES_DIR_NAME), { recursive: true }),
      );
      lock = acquireDataDirLock(dir, options.purpose ?? 'process');
    }
    try {
      const db = openDatabase(file, { readonly, migrateTo: options.migrateTo, migrations: options.migrations });
      const store = new Store(dir, file, db, lock, options.stageOf ?? stageRecordOf, options.sqlTiming ?? {});
      if (!readonly && !options.stageOf && options.migrateTo === undefined && !options.lockHeldByThisProcess)
        store.stages.restageOutdated();
      if (options.writerWorker && !readonly && !options.stageOf && options.migrateTo === undefined) {
        store.writer = new StoreWorker(dir, file, 'write');
        store.writer.start();
        store.reader = new StoreWorker(dir, file, 'read');
        store.reader.start();
      }
      return store;
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  get readonly(): boolean {
    return this.db.readonly;
  }

  close(): void {
    this.writer?.close();
    this.reader?.close();
    if (this.db.open) this.db.close();
    this.lock?.release();
  }

  /**
   * The file of a stored path, checked on every use: the database may come from a backup made elsewhere or
   * edited by hand, and `../../etc/shadow` must never be read or copied (docs/security.md).
   */
  absolutePath(storedPath: string): string {
    const problem = storedPathProblem(storedPath);
    if (problem) {
      throw new StoreError(
        'storage',
        'corrupt',
        `The database ${this.file} names a stored image "${storedPath}" that ${problem}; it was not read. Restore a backup made by CVM Workstation.`,
      );
    }
    return path.join(this.dataDir, storedPath);
  }

  // ---- settings -------------------------------------------------------------------------------------------

  getSetting(key: string): string | null {
    return this.settings.get(key);
  }

  /** The name recorded with every change: the setting, else the operating-system user. */
  userName(): string {
    return this.settings.userName();
  }

  setSetting(key: string, value: string, author: string): void {
    this.settings.set(key, value, author);
  }

  // ---- images ----------------------------------------------------------------------------------------------

  findImageBySha(sha256: string): { imageId: number; studyId: number } | null {
    return this.images.findBySha(sha256);
  }

  imageRow(imageId: number): ImageRow {
    return this.images.row(imageId);
  }

  shownAtImport(imageId: number): { readonly turnedByTag: boolean; readonly pageShown: boolean } {
    return this.images.shownAtImport(imageId);
  }

  /** Inserts an image whose file is already in place; an image with the same content hash is returned as is. */
  insertImage(input: NewImage): { imageId: number; studyId: number; duplicate: boolean } {
    // The file name stays out of the timing log (it may name the patient): a fixed name there.
    return this.sql.write(
      `record the imported file ${input.originalName}`,
      () => {
        const inserted = this.images.insert(input);
        if (!inserted.duplicate && input.enteredSpacingMm && !input.info.spacing) {
          this.calibration.apply(
            inserted.imageId,
            {
              rowMm: input.enteredSpacingMm,
              colMm: input.enteredSpacingMm,
              method: 'entered',
              detail: 'entered at import',
            },
            input.author,
          );
        }
        return inserted;
      },
      'record an imported file',
    );
  }

  /** `insertImage` in the writer worker when the store has one (StoreOpenOptions.writerWorker), else here. */
  async insertImageOffThread(input: NewImage): Promise<{ imageId: number; studyId: number; duplicate: boolean }> {
    return this.writer ? this.writer.insertImage(input) : this.insertImage(input);
  }

  /** Age and sex typed by a user for a study whose file lacks them; a value the file carries is never replaced. */
  setPatientInfo(
    imageId: number,
    input: { ageYears?: number | null; sex?: 'M' | 'F' | 'O' | null },
    author: string,
  ): void {
    this.images.setPatientInfo(imageId, input, author);
  }

  // ---- landmark versions, review, calibration ----------------------------------------------------------------

  recordModelRun(
    imageId: number,
    run: ModelRunInput,
    author = 'model',
  ): { runId: number; versionId: number; version: number; stage: StageSummary } {
    return this.versions.recordModelRun(imageId, run, author);
  }

  /** `recordModelRun` in the writer worker when the store has one, else here. */
  async recordModelRunOffThread(
    imageId: number,
    run: ModelRunInput,
    author = 'model',
  ): Promise<{ runId: number; versionId: number; version: number; stage: StageSummary }> {
    return this.writer ? this.writer.recordModelRun(imageId, run, author) : this.recordModelRun(imageId, run, author);
  }

  /** The radiograph kind of an image (main/store/boneage.ts `writeKind`), in the writer worker when there is one. */
  async writeKindOffThread(imageId: number, kind: RadiographKindView): Promise<void> {
    return this.writer ? this.writer.writeKind(imageId, kind) : writeKind(this, imageId, kind);
  }

  addVersion(imageId: number, input: NewVersion): SavedVersion {
    return this.versions.addVersion(imageId, input);
  }

  revert(imageId: number, toVersionId: number, author: string, baseVersionId?: number | null): SavedVersion {
    return this.versions.revert(imageId, toVersionId, author, baseVersionId);
  }

  setReviewStatus(imageId: number, status: ReviewStatus, author: string, confirmation?: string): ReviewState {
    return this.review.setStatus(imageId, status, author, confirmation);
  }

  setCalibration(imageId: number, input: CalibrationInput | null, author: string): CalibrationResponse {
    return this.calibration.set(imageId, input, author);
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  listStudies(request: ListStudiesRequest): ListStudiesResponse {
    return this.queries.listStudies(request);
  }

  /** `listStudies` in the reader worker when the store has one (StoreOpenOptions.writerWorker), else here. */
  async listStudiesOffThread(request: ListStudiesRequest): Promise<ListStudiesResponse> {
    return this.reader ? this.reader.listStudies(request) : this.listStudies(request);
  }

  loadStudy(imageId: number): StudyDetail {
    return this.queries.loadStudy(imageId);
  }

  auditLog(imageId: number | null, limit = 1000): AuditRow[] {
    return this.review.auditLog(imageId, limit);
  }

  exportRecords(options: { approvedOnly: boolean }): Generator<ExportRecord> {
    return this.exports.records(options);
  }

  /** Copies the live database to `destination` (SQLite's online backup: consistent while others write). */
  async backupTo(destination: string): Promise<{ pages: number }> {
    try {
      const meta = await this.db.backup(destination);
      return { pages: meta.totalPages };
    } catch (error) {
      throw guardStorage('write the backup', destination, () => {
        throw error;
      });
    }
  }
}
