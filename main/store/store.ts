/**
 * The workstation's database: one SQLite file per data folder, written by one process (the lock file) and
 * readable by any number of others (WAL). Every write is one short IMMEDIATE transaction, audit-logged.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ImageInfo } from '../../core/api/image';
import type {
  CalibrationResponse,
  LandmarkPoints,
  LandmarkSetKind,
  ListStudiesRequest,
  ListStudiesResponse,
  ReviewState,
  ReviewStatus,
  SavedVersion,
  StageSummary,
  StudyDetail,
  StudyRow,
} from '../../core/api/studies';
import { LANDMARK_NAMES, type LandmarkName } from '../../core/landmarks/index';
import type BetterSqlite3 from 'better-sqlite3';
import { openDatabase, type Db, type OpenOptions } from './database';

type Statement = BetterSqlite3.Statement<unknown[]>;
import { StoreError, guardStorage } from './errors';
import { acquireDataDirLock, type DataDirLock } from './lock';
import {
  calibrationOf,
  effectiveSpacingOf,
  fileSpacingOf,
  modelRunOf,
  pointsFromJson,
  pointsToJson,
  versionOf,
  type ImageRow,
  type LandmarkSetRow,
  type ModelRunRow,
} from './rows';
import { STAGE_MODEL_TAG, stageRecordOf, type StageFn, type StageRecord } from './stage';
import { listStudiesQuery, preferWalk, SEARCH_INDEX_COUNT_LIMIT } from './worklist';

export const DATABASE_FILE_NAME = 'cvm.sqlite';
export const IMAGES_DIR_NAME = 'images';

export interface StoreOpenOptions extends Pick<OpenOptions, 'migrateTo' | 'migrations'> {
  /** Read-only: no lock, no migrations; for export and backup while the app runs. */
  readonly readonly?: boolean;
  /** Shown to a second process that finds the folder locked, e.g. "app" or "cvm import". */
  readonly purpose?: string;
  readonly stageOf?: StageFn;
}

export interface NewImage {
  readonly sha256: string;
  /** Relative to the data folder. */
  readonly storedPath: string;
  readonly originalName: string;
  readonly byteSize: number;
  readonly info: ImageInfo;
  /** Spacing the user gave for a file without one (PNG/JPEG), stored as an 'entered' calibration. */
  readonly enteredSpacingMm?: number | null;
  readonly author: string;
}

export interface ModelRunInput {
  readonly modelId: string;
  readonly modelVersion: string;
  readonly modelSha256: string;
  readonly provider: string;
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly landmarks: LandmarkPoints;
  readonly confidences: Partial<Record<LandmarkName, number>>;
  /** Flags and quality measures of the run, stored as JSON. */
  readonly quality?: unknown;
}

export interface NewVersion {
  readonly kind: Exclude<LandmarkSetKind, 'ai'>;
  readonly points: LandmarkPoints;
  readonly author: string;
  /** The version the edit started from; undefined skips the staleness check (imports). */
  readonly baseVersionId?: number | null;
  readonly moved?: readonly LandmarkName[];
  readonly note?: string;
  readonly revertedFrom?: number;
  /** Names taken from a prediction; by default those the previous version had from one and this one did not move. */
  readonly fromPrediction?: readonly LandmarkName[];
}

export interface CalibrationInput {
  readonly rowMm: number;
  readonly colMm: number;
  readonly method: 'entered' | 'two-points';
  readonly detail: string;
}

export interface ExportRecord {
  readonly imageId: number;
  readonly studyId: number;
  readonly sha256: string;
  readonly storedPath: string;
  readonly originalName: string;
  readonly width: number;
  readonly height: number;
  readonly spacing: { rowMm: number; colMm: number; source: string } | null;
  readonly patientId: string | null;
  readonly patientName: string | null;
  readonly sex: string | null;
  readonly studyDate: string | null;
  readonly ageYears: number | null;
  readonly reviewStatus: ReviewStatus;
  readonly reviewedBy: string | null;
  readonly version: number;
  readonly versionKind: LandmarkSetKind;
  readonly author: string;
  readonly points: LandmarkPoints;
  readonly aiPoints: LandmarkPoints | null;
  /** Names whose position is a model's prediction nobody moved ("filled_from_prediction" in cvm13). */
  readonly fromPrediction: readonly LandmarkName[];
  readonly stage: StageSummary | null;
  readonly assessmentJson: string | null;
}

const SET_COLUMNS = `ls.*, sr.kind AS stage_kind, sr.stage AS stage, sr.label AS stage_label, sr.borderline AS borderline,
  sr.probability AS probability, sr.runner_up AS runner_up, sr.runner_up_probability AS runner_up_probability,
  sr.confidence AS confidence, sr.textbook_stage AS textbook_stage`;
const SET_FROM = `landmark_sets ls LEFT JOIN stage_results sr ON sr.set_ref = ls.id`;

const now = (): string => new Date().toISOString();

/**
 * Why a stored path is not one this app writes (`images/<sha256>.<ext>`, relative, inside the data folder's
 * images folder), or null when it is fine.
 */
export function storedPathProblem(storedPath: unknown): string | null {
  if (typeof storedPath !== 'string' || storedPath.length === 0 || storedPath.length > 300) return 'is not a file name';
  if (storedPath.includes('\0') || storedPath.includes('\\')) return 'contains characters a stored path never has';
  if (path.posix.isAbsolute(storedPath) || path.win32.isAbsolute(storedPath))
    return 'is an absolute path outside the data folder';
  const parts = storedPath.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) return 'leaves the data folder';
  if (parts.length !== 2 || parts[0] !== IMAGES_DIR_NAME)
    return `is not inside the data folder's ${IMAGES_DIR_NAME} folder`;
  return null;
}

export class Store {
  private readonly statements = new Map<string, Statement>();

  private constructor(
    readonly dataDir: string,
    readonly file: string,
    readonly db: Db,
    private readonly lock: DataDirLock | null,
    private readonly stageOf: StageFn,
  ) {}

  /** Opens `<dataDir>/cvm.sqlite`, creating the folder and the database when absent (unless read-only). */
  static open(dataDir: string, options: StoreOpenOptions = {}): Store {
    const dir = path.resolve(dataDir);
    const file = path.join(dir, DATABASE_FILE_NAME);
    const readonly = options.readonly ?? false;
    let lock: DataDirLock | null = null;
    if (!readonly) {
      guardStorage('create the data folder', dir, () =>
        mkdirSync(path.join(dir, IMAGES_DIR_NAME), { recursive: true }),
      );
      lock = acquireDataDirLock(dir, options.purpose ?? 'process');
    }
    try {
      const db = openDatabase(file, { readonly, migrateTo: options.migrateTo, migrations: options.migrations });
      const store = new Store(dir, file, db, lock, options.stageOf ?? stageRecordOf);
      if (!readonly && !options.stageOf && options.migrateTo === undefined) store.restageOutdated();
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

  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = guardStorage('prepare a query', this.file, () => this.db.prepare<unknown[]>(sql));
      this.statements.set(sql, s);
    }
    return s;
  }

  private get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  private all<T>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  private run(sql: string, ...params: unknown[]): { lastInsertRowid: number | bigint; changes: number } {
    return this.stmt(sql).run(...params);
  }

  /** One IMMEDIATE transaction: all of `fn` is committed, or (on any error) none of it. */
  private write<T>(action: string, fn: () => T): T {
    if (this.db.readonly)
      throw new StoreError('storage', 'read-only', `Could not ${action}: the database ${this.file} is open read-only.`);
    return guardStorage(action, this.file, () => this.db.transaction(fn).immediate());
  }

  /** Reads in one transaction, so every statement of `fn` sees the same snapshot while others write. */
  private read<T>(action: string, fn: () => T): T {
    return guardStorage(action, this.file, () => (this.db.inTransaction ? fn() : this.db.transaction(fn).deferred()));
  }

  private audit(
    author: string,
    action: string,
    imageId: number | null,
    summary: string,
    before?: unknown,
    after?: unknown,
  ): void {
    this.run(
      'INSERT INTO audit_log (at, author, action, image_ref, summary, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?)',
      now(),
      author,
      action,
      imageId,
      summary,
      before === undefined ? null : JSON.stringify(before),
      after === undefined ? null : JSON.stringify(after),
    );
  }

  // ---- settings -------------------------------------------------------------------------------------------

  getSetting(key: string): string | null {
    return this.read(
      'read a setting',
      () => this.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', key)?.value ?? null,
    );
  }

  /** The name recorded with every change: the setting, else the operating-system user. */
  userName(): string {
    return this.getSetting('userName') ?? defaultUserName();
  }

  setSetting(key: string, value: string, author: string): void {
    this.write('save a setting', () => {
      const before = this.getSetting(key);
      this.run(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
        key,
        value,
      );
      this.audit(author, 'setting', null, `${key} set to "${value}"`, { [key]: before }, { [key]: value });
    });
  }

  // ---- images ----------------------------------------------------------------------------------------------

  findImageBySha(sha256: string): { imageId: number; studyId: number } | null {
    const row = this.read('look up an image', () =>
      this.get<{ id: number; study_ref: number }>('SELECT id, study_ref FROM images WHERE sha256 = ?', sha256),
    );
    return row ? { imageId: row.id, studyId: row.study_ref } : null;
  }

  imageRow(imageId: number): ImageRow {
    const row = this.read('read an image', () => this.get<ImageRow>('SELECT * FROM images WHERE id = ?', imageId));
    if (!row) throw new StoreError('not-found', 'not-found', `There is no image ${imageId} in ${this.file}.`);
    return row;
  }

  /** Inserts an image whose file is already in place; an image with the same content hash is returned as is. */
  insertImage(input: NewImage): { imageId: number; studyId: number; duplicate: boolean } {
    return this.write(`record the imported file ${input.originalName}`, () => {
      const existing = this.findImageBySha(input.sha256);
      if (existing) return { ...existing, duplicate: true };
      const t = now();
      const meta = input.info.meta;
      let patientRef: number | null = null;
      if (meta.patientId) {
        this.run(
          `INSERT INTO patients (dicom_patient_id, name, sex, birth_date, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(dicom_patient_id) DO UPDATE SET name = COALESCE(patients.name, excluded.name),
             sex = COALESCE(patients.sex, excluded.sex), birth_date = COALESCE(patients.birth_date, excluded.birth_date)`,
          meta.patientId,
          meta.patientName,
          meta.sex,
          meta.birthDate,
          t,
        );
        patientRef = this.get<{ id: number }>('SELECT id FROM patients WHERE dicom_patient_id = ?', meta.patientId)!.id;
      }
      let studyRef = meta.studyInstanceUid
        ? this.get<{ id: number }>('SELECT id FROM studies WHERE study_instance_uid = ?', meta.studyInstanceUid)?.id
        : undefined;
      if (studyRef === undefined) {
        studyRef = Number(
          this.run(
            'INSERT INTO studies (patient_ref, study_instance_uid, study_date, description, age_years, created_at) VALUES (?, ?, ?, ?, ?, ?)',
            patientRef,
            meta.studyInstanceUid,
            meta.studyDate,
            meta.studyDescription,
            meta.ageYears,
            t,
          ).lastInsertRowid,
        );
      }
      const spacing = input.info.spacing;
      const imageId = Number(
        this.run(
          `INSERT INTO images (study_ref, sha256, stored_path, original_name, byte_size, format, width, height, frames,
           file_spacing_row_mm, file_spacing_col_mm, file_spacing_source, file_spacing_detail, imported_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          studyRef,
          input.sha256,
          input.storedPath,
          input.originalName,
          input.byteSize,
          input.info.format,
          input.info.width,
          input.info.height,
          input.info.frames,
          spacing?.rowMm ?? null,
          spacing?.colMm ?? null,
          spacing?.source ?? null,
          spacing?.detail ?? null,
          t,
          t,
        ).lastInsertRowid,
      );
      this.run('INSERT INTO image_info (image_ref, info_json) VALUES (?, ?)', imageId, JSON.stringify(input.info));
      this.audit(
        input.author,
        'import',
        imageId,
        `imported ${input.originalName} (${input.info.format}, ${input.info.width}x${input.info.height})`,
        undefined,
        { sha256: input.sha256, storedPath: input.storedPath, spacing },
      );
      if (input.enteredSpacingMm && !spacing) {
        this.applyCalibration(
          imageId,
          {
            rowMm: input.enteredSpacingMm,
            colMm: input.enteredSpacingMm,
            method: 'entered',
            detail: 'entered at import',
          },
          input.author,
        );
      }
      return { imageId, studyId: studyRef, duplicate: false };
    });
  }

  // ---- landmark versions -------------------------------------------------------------------------------------

  private setRow(setId: number): LandmarkSetRow | undefined {
    return this.get<LandmarkSetRow>(`SELECT ${SET_COLUMNS} FROM ${SET_FROM} WHERE ls.id = ?`, setId);
  }

  private insertSet(
    image: ImageRow,
    fields: {
      kind: LandmarkSetKind;
      points: LandmarkPoints;
      author: string;
      baseRef: number | null;
      revertedFrom?: number;
      modelRunRef?: number;
      moved?: readonly LandmarkName[];
      note?: string;
      fromPrediction: readonly LandmarkName[];
    },
  ): { setId: number; version: number; stage: StageRecord } {
    const version =
      (this.get<{ v: number | null }>('SELECT MAX(version) AS v FROM landmark_sets WHERE image_ref = ?', image.id)?.v ??
        0) + 1;
    const t = now();
    const setId = Number(
      this.run(
        `INSERT INTO landmark_sets (image_ref, version, kind, base_ref, reverted_from_ref, model_run_ref, author, created_at, points_json,
         moved_json, note, from_prediction_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        image.id,
        version,
        fields.kind,
        fields.baseRef,
        fields.revertedFrom ?? null,
        fields.modelRunRef ?? null,
        fields.author,
        t,
        pointsToJson(fields.points),
        fields.moved ? JSON.stringify(fields.moved) : null,
        fields.note ?? null,
        JSON.stringify(LANDMARK_NAMES.filter((n) => fields.fromPrediction.includes(n))),
      ).lastInsertRowid,
    );
    const stage = this.writeStage(setId, fields.points, image, fields.fromPrediction);
    return { setId, version, stage };
  }

  private modelColumns: boolean | null = null;

  /** Whether stage_results has the staging model's columns (migration 9). */
  private hasModelColumns(): boolean {
    this.modelColumns ??= (this.db.prepare('PRAGMA table_info(stage_results)').all() as Array<{ name: string }>).some(
      (c) => c.name === 'stage_model',
    );
    return this.modelColumns;
  }

  private writeStage(
    setId: number,
    points: LandmarkPoints,
    image: ImageRow,
    fromPrediction: readonly LandmarkName[],
  ): StageRecord {
    const spacing = effectiveSpacingOf(image);
    const stage = this.stageOf(points, spacing, fromPrediction);
    const s = stage.summary;
    if (!this.hasModelColumns()) {
      // A database held at an older schema (tests of upgrades): the columns of the staging model do not exist yet;
      // the stage is recomputed with them when the store next opens at the latest schema.
      this.run(
        `INSERT INTO stage_results (set_ref, kind, stage, label, borderline, spacing_row_mm, spacing_col_mm, computed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(set_ref) DO UPDATE SET kind = excluded.kind, stage = excluded.stage, label = excluded.label,
           borderline = excluded.borderline, spacing_row_mm = excluded.spacing_row_mm, spacing_col_mm = excluded.spacing_col_mm,
           computed_at = excluded.computed_at`,
        setId,
        s.kind,
        s.stage,
        s.label,
        s.borderline ? 1 : 0,
        spacing?.rowMm ?? null,
        spacing?.colMm ?? null,
        now(),
      );
    } else
      this.run(
        `INSERT INTO stage_results (set_ref, kind, stage, label, borderline, spacing_row_mm, spacing_col_mm, computed_at,
         probability, runner_up, runner_up_probability, confidence, textbook_stage, stage_model)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(set_ref) DO UPDATE SET kind = excluded.kind, stage = excluded.stage, label = excluded.label,
         borderline = excluded.borderline, spacing_row_mm = excluded.spacing_row_mm, spacing_col_mm = excluded.spacing_col_mm,
         computed_at = excluded.computed_at, probability = excluded.probability, runner_up = excluded.runner_up,
         runner_up_probability = excluded.runner_up_probability, confidence = excluded.confidence,
         textbook_stage = excluded.textbook_stage, stage_model = excluded.stage_model`,
        setId,
        s.kind,
        s.stage,
        s.label,
        s.borderline ? 1 : 0,
        spacing?.rowMm ?? null,
        spacing?.colMm ?? null,
        now(),
        s.probability ?? null,
        s.runnerUp ?? null,
        s.runnerUpProbability ?? null,
        s.confidence ?? null,
        s.textbookStage ?? null,
        STAGE_MODEL_TAG,
      );
    this.run(
      `INSERT INTO stage_assessments (set_ref, assessment_deflated) VALUES (?, ?)
       ON CONFLICT(set_ref) DO UPDATE SET assessment_deflated = excluded.assessment_deflated`,
      setId,
      deflateRawSync(stage.assessmentJson),
    );
    return stage;
  }

  /**
   * Records a model's prediction and its 'ai' landmark version. The new prediction becomes the current
   * landmarks only while no human has saved a version; otherwise it is kept beside them for comparison.
   */
  recordModelRun(
    imageId: number,
    run: ModelRunInput,
    author = 'model',
  ): { runId: number; versionId: number; version: number; stage: StageSummary } {
    return this.write('record the model run', () => {
      const image = this.imageRow(imageId);
      const confidences = Object.values(run.confidences).filter((c): c is number => typeof c === 'number');
      const minConfidence = confidences.length > 0 ? Math.min(...confidences) : null;
      const t = now();
      const runId = Number(
        this.run(
          `INSERT INTO model_runs (image_ref, model_id, model_version, model_sha256, provider, timings_json, landmarks_json,
           confidences_json, quality_json, min_confidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          imageId,
          run.modelId,
          run.modelVersion,
          run.modelSha256,
          run.provider,
          JSON.stringify(run.timingsMs),
          pointsToJson(run.landmarks),
          JSON.stringify(run.confidences),
          run.quality === undefined ? null : JSON.stringify(run.quality),
          minConfidence,
          t,
        ).lastInsertRowid,
      );
      const latest = image.latest_set_ref === null ? undefined : this.setRow(image.latest_set_ref);
      const humanHasEdited = latest !== undefined && latest.kind !== 'ai';
      const { setId, version, stage } = this.insertSet(image, {
        kind: 'ai',
        points: run.landmarks,
        author: `${run.modelId} ${run.modelVersion}`,
        baseRef: image.latest_set_ref,
        modelRunRef: runId,
        fromPrediction: LANDMARK_NAMES.filter((n) => run.landmarks[n] !== undefined),
      });
      this.run(
        'UPDATE images SET ai_set_ref = ?, latest_set_ref = ?, min_confidence = ?, updated_at = ? WHERE id = ?',
        setId,
        humanHasEdited ? image.latest_set_ref : setId,
        minConfidence,
        t,
        imageId,
      );
      // An approval applies to the landmarks that were approved: when the re-analysis replaces them, the study
      // goes back to review (audited), never keeping an approval of landmarks nobody saw.
      const withdrawn = !humanHasEdited && image.review_status === 'approved';
      if (withdrawn) this.withdrawApproval(image, author, 'a re-analysis replaced the approved landmarks');
      this.audit(
        author,
        'model-run',
        imageId,
        `${run.modelId} ${run.modelVersion} (${run.provider}) predicted version ${version}: ${stage.summary.label}` +
          (humanHasEdited ? '; the human-edited version stays current' : '') +
          (withdrawn ? '; approval withdrawn' : ''),
        undefined,
        { runId, versionId: setId, stage: stage.summary },
      );
      return { runId, versionId: setId, version, stage: stage.summary };
    });
  }

  /** Saves a human version (edit, revert, manual placement, import) as one transaction. */
  addVersion(imageId: number, input: NewVersion): SavedVersion {
    return this.write('save the landmarks', () => {
      const image = this.imageRow(imageId);
      if (input.baseVersionId !== undefined && input.baseVersionId !== image.latest_set_ref) {
        const current = image.latest_set_ref === null ? undefined : this.setRow(image.latest_set_ref);
        throw new StoreError(
          'conflict',
          'conflict',
          `The landmarks of image ${imageId} were changed elsewhere` +
            (current ? ` (version ${current.version} by ${current.author} at ${current.created_at})` : '') +
            ' after you loaded them; reload the study and apply your change again.',
        );
      }
      const previous = image.latest_set_ref === null ? undefined : this.setRow(image.latest_set_ref);
      const { setId, version, stage } = this.insertSet(image, {
        kind: input.kind,
        points: input.points,
        author: input.author,
        baseRef: image.latest_set_ref,
        revertedFrom: input.revertedFrom,
        moved: input.moved,
        note: input.note,
        fromPrediction: input.fromPrediction ?? this.predictedNames(image, previous, input.points),
      });
      const t = now();
      // A human change starts (or, after approval, re-opens) the review.
      const status: ReviewStatus = 'in-progress';
      const review: ReviewState = { status, by: null, at: null };
      this.run(
        'UPDATE images SET latest_set_ref = ?, review_status = ?, reviewed_by = NULL, reviewed_at = NULL, updated_at = ? WHERE id = ?',
        setId,
        status,
        t,
        imageId,
      );
      const stageBefore = previous?.stage_label ?? null;
      this.audit(
        input.author,
        input.kind === 'import' ? 'import-landmarks' : input.kind,
        imageId,
        `${input.kind} version ${version}${input.moved?.length ? ` (moved ${input.moved.join(', ')})` : ''}` +
          `${input.revertedFrom ? ` from version ${this.setRow(input.revertedFrom)?.version ?? '?'}` : ''}: ` +
          `${stageBefore ?? 'no stage'} -> ${stage.summary.label}` +
          (image.review_status === 'approved' ? '; approval withdrawn' : ''),
        { versionId: previous?.id ?? null, stage: stageBefore, review: image.review_status },
        { versionId: setId, stage: stage.summary.label, review: status, moved: input.moved ?? null },
      );
      return { versionId: setId, version, stage: stage.summary, review };
    });
  }

  /**
   * Names whose position is a model's prediction: unmoved since a version that had them from one, or moved
   * back onto the image's AI prediction (within a micro-pixel), which is no longer a human placement.
   */
  private predictedNames(
    image: ImageRow,
    previous: LandmarkSetRow | undefined,
    points: LandmarkPoints,
  ): LandmarkName[] {
    const names = new Set(previous ? unmovedPredictions(previous, points) : []);
    const ai = image.ai_set_ref === null ? undefined : this.setRow(image.ai_set_ref);
    if (ai) {
      const predicted = pointsFromJson(ai.points_json);
      for (const n of LANDMARK_NAMES) {
        const p = points[n];
        const q = predicted[n];
        if (p && q && Math.abs(p[0] - q[0]) < 1e-6 && Math.abs(p[1] - q[1]) < 1e-6) names.add(n);
      }
    }
    return LANDMARK_NAMES.filter((n) => names.has(n));
  }

  /** A new version equal to `toVersionId` (an earlier edit or the AI prediction) of the same image. */
  revert(imageId: number, toVersionId: number, author: string, baseVersionId?: number | null): SavedVersion {
    const target = this.read('read a landmark version', () => this.setRow(toVersionId));
    if (!target || target.image_ref !== imageId) {
      throw new StoreError('not-found', 'not-found', `Image ${imageId} has no landmark version ${toVersionId}.`);
    }
    return this.addVersion(imageId, {
      kind: 'revert',
      points: pointsFromJson(target.points_json),
      author,
      baseVersionId,
      revertedFrom: toVersionId,
      fromPrediction: predictionNamesOf(target),
      note: `reverted to version ${target.version} (${target.kind} by ${target.author})`,
    });
  }

  /**
   * Changes the review status. The approval rules are checked by the service (main/services/studies.ts);
   * `confirmation` holds the reasons a user confirmed when the rules asked, and goes into the audit log.
   */
  setReviewStatus(imageId: number, status: ReviewStatus, author: string, confirmation?: string): ReviewState {
    return this.write('change the review status', () => {
      const image = this.imageRow(imageId);
      // A hand-wrist radiograph has no landmarks: its bone age is what gets approved (main/store/boneage.ts).
      const hasBoneAge =
        this.get<{ n: number }>('SELECT COUNT(*) AS n FROM bone_age_results WHERE image_ref = ?', imageId)!.n > 0;
      if (status === 'approved' && image.latest_set_ref === null && !hasBoneAge) {
        throw new StoreError(
          'invalid-request',
          'invalid',
          `Image ${imageId} has no landmarks (nor a bone age) to approve.`,
        );
      }
      const t = now();
      const review: ReviewState =
        status === 'approved' ? { status, by: author, at: t } : { status, by: null, at: null };
      this.run(
        'UPDATE images SET review_status = ?, reviewed_by = ?, reviewed_at = ?, updated_at = ? WHERE id = ?',
        review.status,
        review.by,
        review.at,
        t,
        imageId,
      );
      this.audit(
        author,
        'review',
        imageId,
        `review status ${image.review_status} -> ${status}${confirmation ? ` (confirmed: ${confirmation})` : ''}`,
        { status: image.review_status, by: image.reviewed_by },
        confirmation ? { ...review, confirmed: confirmation } : review,
      );
      return review;
    });
  }

  private applyCalibration(imageId: number, input: CalibrationInput | null, author: string): CalibrationResponse {
    const before = this.imageRow(imageId);
    const t = now();
    this.run(
      'UPDATE images SET cal_row_mm = ?, cal_col_mm = ?, cal_method = ?, cal_detail = ?, cal_by = ?, cal_at = ?, updated_at = ? WHERE id = ?',
      input?.rowMm ?? null,
      input?.colMm ?? null,
      input?.method ?? null,
      input?.detail ?? null,
      input ? author : null,
      input ? t : null,
      t,
      imageId,
    );
    const image = this.imageRow(imageId);
    // The stage depends on the spacing (thresholds in mm): recompute it for every version of this image.
    let stage: StageSummary | null = null;
    for (const set of this.all<LandmarkSetRow>(
      `SELECT ${SET_COLUMNS} FROM ${SET_FROM} WHERE ls.image_ref = ?`,
      imageId,
    )) {
      const record = this.writeStage(set.id, pointsFromJson(set.points_json), image, predictionNamesOf(set));
      if (set.id === image.latest_set_ref) stage = record.summary;
    }
    const spacing = effectiveSpacingOf(image);
    // A new spacing can change the stage of approved landmarks: the study goes back to review.
    const spacingBefore = effectiveSpacingOf(before);
    const spacingChanged = spacingBefore?.rowMm !== spacing?.rowMm || spacingBefore?.colMm !== spacing?.colMm;
    const withdrawn = spacingChanged && before.review_status === 'approved' && image.latest_set_ref !== null;
    if (withdrawn) this.withdrawApproval(before, author, 'the calibration changed');
    this.audit(
      author,
      'calibration',
      imageId,
      input
        ? `calibration ${input.rowMm === input.colMm ? input.colMm : `${input.rowMm} x ${input.colMm}`} mm/pixel (${input.method}${input.detail ? `: ${input.detail}` : ''})`
        : 'calibration cleared',
      calibrationOf(before),
      calibrationOf(image),
    );
    return { spacing, calibration: calibrationOf(image), stage };
  }

  /** An approval applies to what was approved: when that changes, the study goes back to review (audited). */
  private withdrawApproval(image: ImageRow, author: string, why: string): void {
    this.run(
      "UPDATE images SET review_status = 'in-progress', reviewed_by = NULL, reviewed_at = NULL WHERE id = ?",
      image.id,
    );
    this.audit(
      author,
      'review',
      image.id,
      `review status approved -> in-progress: ${why}`,
      { status: image.review_status, by: image.reviewed_by },
      { status: 'in-progress', by: null, at: null },
    );
  }

  setCalibration(imageId: number, input: CalibrationInput | null, author: string): CalibrationResponse {
    return this.write('save the calibration', () => this.applyCalibration(imageId, input, author));
  }

  /**
   * Recomputes the stored stage of every landmark version staged by another staging model (or before there was
   * one), so the worklist, filters and exports speak of one model. Runs when the store opens; a no-op once done.
   */
  private restageOutdated(): void {
    const outdated = this.all<LandmarkSetRow>(
      `SELECT ${SET_COLUMNS} FROM ${SET_FROM} WHERE sr.stage_model IS NULL OR sr.stage_model <> ?`,
      STAGE_MODEL_TAG,
    );
    if (outdated.length === 0) return;
    this.write('update the stages to the current staging model', () => {
      const images = new Map<number, ImageRow>();
      for (const set of outdated) {
        const image = images.get(set.image_ref) ?? this.imageRow(set.image_ref);
        images.set(set.image_ref, image);
        this.writeStage(set.id, pointsFromJson(set.points_json), image, predictionNamesOf(set));
      }
    });
  }

  /** Age and sex typed by a user for a study whose file lacks them; a value the file carries is never replaced. */
  setPatientInfo(
    imageId: number,
    input: { ageYears?: number | null; sex?: 'M' | 'F' | 'O' | null },
    author: string,
  ): void {
    this.write('save the patient data', () => {
      const image = this.imageRow(imageId);
      const study = this.get<{
        id: number;
        age_years: number | null;
        age_entered: number;
        entered_sex: string | null;
        patient_sex: string | null;
      }>(
        `SELECT st.id, st.age_years, st.age_entered, st.entered_sex, p.sex AS patient_sex
         FROM studies st LEFT JOIN patients p ON p.id = st.patient_ref WHERE st.id = ?`,
        image.study_ref,
      )!;
      const before = { ageYears: study.age_years, sex: study.patient_sex ?? study.entered_sex };
      if (input.ageYears !== undefined) {
        if (study.age_years !== null && study.age_entered === 0) {
          throw new StoreError('invalid-request', 'invalid', 'The age comes from the file and cannot be changed here.');
        }
        this.run(
          'UPDATE studies SET age_years = ?, age_entered = ? WHERE id = ?',
          input.ageYears,
          input.ageYears === null ? 0 : 1,
          study.id,
        );
      }
      if (input.sex !== undefined) {
        if (study.patient_sex !== null)
          throw new StoreError('invalid-request', 'invalid', 'The sex comes from the file and cannot be changed here.');
        this.run('UPDATE studies SET entered_sex = ? WHERE id = ?', input.sex, study.id);
      }
      const after = {
        ageYears: input.ageYears !== undefined ? input.ageYears : before.ageYears,
        sex: input.sex !== undefined ? input.sex : before.sex,
      };
      this.audit(
        author,
        'patient-data',
        imageId,
        `entered ${[input.ageYears !== undefined ? `age ${after.ageYears === null ? 'cleared' : after.ageYears.toFixed(3)}` : '', input.sex !== undefined ? `sex ${after.sex ?? 'cleared'}` : ''].filter(Boolean).join(', ')}`,
        before,
        after,
      );
    });
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  listStudies(request: ListStudiesRequest): ListStudiesResponse {
    const query = listStudiesQuery(request);
    return this.read('list the studies', () => {
      const { scan } = query;
      const common =
        scan !== undefined &&
        (this.stmt(scan.probeSql).get(...scan.probeParams) as { n: number }).n >= SEARCH_INDEX_COUNT_LIMIT;
      const total = (
        common ? this.stmt(scan.countSql).get(...scan.params) : this.stmt(query.countSql).get(...query.params)
      ) as { n: number };
      const walk =
        query.walk &&
        preferWalk(
          total.n,
          this.get<{ n: number | null }>('SELECT MAX(id) AS n FROM images')?.n ?? 0,
          request.offset,
          request.limit,
        )
          ? query.walk
          : null;
      const rows = (
        walk
          ? this.stmt(walk.pageSql).all(...walk.params, request.limit, request.offset)
          : this.stmt(query.pageSql).all(...query.params, request.limit, request.offset)
      ) as Array<Omit<StudyRow, 'borderline'> & { borderline: number | null }>;
      return { total: total.n, rows: rows.map((r) => ({ ...r, borderline: r.borderline === 1 })) };
    });
  }

  loadStudy(imageId: number): StudyDetail {
    return this.read('load the study', () => {
      const image = this.imageRow(imageId);
      const history = this.all<LandmarkSetRow>(
        `SELECT ${SET_COLUMNS} FROM ${SET_FROM} WHERE ls.image_ref = ? ORDER BY ls.version DESC`,
        imageId,
      ).map(versionOf);
      const latest = history.find((v) => v.versionId === image.latest_set_ref) ?? null;
      const aiVersion = history.find((v) => v.versionId === image.ai_set_ref) ?? null;
      const runRow = aiVersion?.modelRunId
        ? this.get<ModelRunRow>('SELECT * FROM model_runs WHERE id = ?', aiVersion.modelRunId)
        : undefined;
      const infoJson = this.get<{ info_json: string }>(
        'SELECT info_json FROM image_info WHERE image_ref = ?',
        imageId,
      )!.info_json;
      const parsed = JSON.parse(infoJson) as ImageInfo;
      const entered = this.get<{ age_years: number | null; age_entered: number; entered_sex: 'M' | 'F' | 'O' | null }>(
        'SELECT age_years, age_entered, entered_sex FROM studies WHERE id = ?',
        image.study_ref,
      );
      const meta = {
        ...parsed.meta,
        ageYears: parsed.meta.ageYears ?? (entered?.age_entered ? entered.age_years : null),
        sex: parsed.meta.sex ?? entered?.entered_sex ?? null,
      };
      const info = { ...parsed, meta, spacing: effectiveSpacingOf(image) };
      return {
        imageId: image.id,
        studyId: image.study_ref,
        sha256: image.sha256,
        importedAt: image.imported_at,
        info,
        fileSpacing: fileSpacingOf(image),
        calibration: calibrationOf(image),
        latest,
        ai: aiVersion ? { ...aiVersion, modelRun: runRow ? modelRunOf(runRow) : null } : null,
        history,
        review: { status: image.review_status, by: image.reviewed_by, at: image.reviewed_at },
      };
    });
  }

  auditLog(
    imageId: number | null,
    limit = 1000,
  ): Array<{
    id: number;
    at: string;
    author: string;
    action: string;
    summary: string;
    before_json: string | null;
    after_json: string | null;
  }> {
    return this.read('read the audit log', () =>
      imageId === null
        ? this.all(
            'SELECT id, at, author, action, summary, before_json, after_json FROM audit_log ORDER BY id DESC LIMIT ?',
            limit,
          )
        : this.all(
            'SELECT id, at, author, action, summary, before_json, after_json FROM audit_log WHERE image_ref = ? ORDER BY id DESC LIMIT ?',
            imageId,
            limit,
          ),
    );
  }

  /** The current landmarks of every image that has some (optionally only approved ones), for export. */
  *exportRecords(options: { approvedOnly: boolean }): Generator<ExportRecord> {
    const sql = `
      SELECT i.*, st.id AS s_id, st.study_date, st.age_years, p.dicom_patient_id, p.name AS patient_name, COALESCE(p.sex, st.entered_sex) AS sex,
             ls.version AS l_version, ls.kind AS l_kind, ls.author AS l_author, ls.points_json AS l_points,
             ls.from_prediction_json AS l_from_prediction,
             ai.points_json AS ai_points, sr.kind AS sr_kind, sr.stage AS sr_stage, sr.label AS sr_label,
             sr.borderline AS sr_borderline, sa.assessment_deflated AS sr_assessment, sr.probability AS sr_probability,
             sr.runner_up AS sr_runner_up, sr.runner_up_probability AS sr_runner_up_probability, sr.confidence AS sr_confidence,
             sr.textbook_stage AS sr_textbook_stage
      FROM images i
      JOIN studies st ON st.id = i.study_ref
      LEFT JOIN patients p ON p.id = st.patient_ref
      JOIN landmark_sets ls ON ls.id = i.latest_set_ref
      LEFT JOIN landmark_sets ai ON ai.id = i.ai_set_ref
      LEFT JOIN stage_results sr ON sr.set_ref = i.latest_set_ref
      LEFT JOIN stage_assessments sa ON sa.set_ref = i.latest_set_ref
      ${options.approvedOnly ? "WHERE i.review_status = 'approved'" : ''}
      ORDER BY i.id`;
    type Row = ImageRow & {
      s_id: number;
      study_date: string | null;
      age_years: number | null;
      dicom_patient_id: string | null;
      patient_name: string | null;
      sex: string | null;
      l_version: number;
      l_kind: LandmarkSetKind;
      l_author: string;
      l_points: string;
      l_from_prediction: string | null;
      ai_points: string | null;
      sr_kind: StageSummary['kind'] | null;
      sr_stage: StageSummary['stage'];
      sr_label: string | null;
      sr_borderline: number | null;
      sr_assessment: Buffer | null;
      sr_probability: number | null;
      sr_runner_up: StageSummary['stage'];
      sr_runner_up_probability: number | null;
      sr_confidence: StageSummary['confidence'];
      sr_textbook_stage: StageSummary['stage'];
    };
    const rows = this.read('read the studies for export', () => this.all<Row>(sql));
    for (const r of rows) {
      const spacing = effectiveSpacingOf(r);
      yield {
        imageId: r.id,
        studyId: r.s_id,
        sha256: r.sha256,
        storedPath: r.stored_path,
        originalName: r.original_name,
        width: r.width,
        height: r.height,
        spacing: spacing ? { rowMm: spacing.rowMm, colMm: spacing.colMm, source: spacing.source } : null,
        patientId: r.dicom_patient_id,
        patientName: r.patient_name,
        sex: r.sex,
        studyDate: r.study_date,
        ageYears: r.age_years,
        reviewStatus: r.review_status,
        reviewedBy: r.reviewed_by,
        version: r.l_version,
        versionKind: r.l_kind,
        author: r.l_author,
        points: pointsFromJson(r.l_points),
        aiPoints: r.ai_points ? pointsFromJson(r.ai_points) : null,
        fromPrediction:
          r.l_from_prediction !== null
            ? (JSON.parse(r.l_from_prediction) as LandmarkName[])
            : equalPointNames(pointsFromJson(r.l_points), r.ai_points ? pointsFromJson(r.ai_points) : {}),
        stage:
          r.sr_kind && r.sr_label
            ? {
                kind: r.sr_kind,
                stage: r.sr_stage,
                label: r.sr_label,
                borderline: r.sr_borderline === 1,
                probability: r.sr_probability,
                runnerUp: r.sr_runner_up,
                runnerUpProbability: r.sr_runner_up_probability,
                confidence: r.sr_confidence,
                textbookStage: r.sr_textbook_stage,
              }
            : null,
        assessmentJson: r.sr_assessment ? inflateRawSync(r.sr_assessment).toString('utf8') : null,
      };
    }
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

/** The names of a stored version taken from a prediction (for versions before schema 3: all of an 'ai' one). */
function predictionNamesOf(row: LandmarkSetRow): LandmarkName[] {
  if (row.from_prediction_json !== null) return JSON.parse(row.from_prediction_json) as LandmarkName[];
  return row.kind === 'ai' ? LANDMARK_NAMES.filter((n) => pointsFromJson(row.points_json)[n] !== undefined) : [];
}

function equalPointNames(a: LandmarkPoints, b: LandmarkPoints): LandmarkName[] {
  return LANDMARK_NAMES.filter((n) => {
    const p = a[n];
    const q = b[n];
    return p !== undefined && q !== undefined && p[0] === q[0] && p[1] === q[1];
  });
}

function unmovedPredictions(previous: LandmarkSetRow, points: LandmarkPoints): LandmarkName[] {
  const unmoved = equalPointNames(points, pointsFromJson(previous.points_json));
  return predictionNamesOf(previous).filter((n) => unmoved.includes(n));
}

export function defaultUserName(): string {
  try {
    return os.userInfo().username || 'unknown user';
  } catch {
    return 'unknown user';
  }
}

/** True when two point sets hold the same names at the same coordinates. */
export function samePoints(a: LandmarkPoints, b: LandmarkPoints): boolean {
  return LANDMARK_NAMES.every((n) => {
    const p = a[n];
    const q = b[n];
    return p === undefined ? q === undefined : q !== undefined && p[0] === q[0] && p[1] === q[1];
  });
}
