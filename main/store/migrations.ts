/**
 * Numbered, append-only schema migrations. Never edit or reorder a released entry: add a new one.
 * The database records the applied version in `PRAGMA user_version` and one row per migration in
 * `schema_migrations`.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** Run after `sql`, in the same transaction, for steps plain SQL cannot express. */
  readonly apply?: (db: MigrationDb) => void;
}

/** The part of a better-sqlite3 database a migration's `apply` uses. */
export interface MigrationDb {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(source: string): { run(...params: unknown[]): unknown };
  unsafeMode(on?: boolean): unknown;
}

/**
 * Widens the CHECK constraint of images.format to admit 'tiff' by editing the stored schema text, the
 * procedure SQLite documents for constraint changes that leave the stored data valid (ALTER TABLE,
 * "making other kinds of table schema changes"): no table rebuild, so columns other migrations add stay.
 */
function admitTiffFormat(db: MigrationDb): void {
  const version = db.pragma('schema_version', { simple: true }) as number;
  db.unsafeMode(true);
  try {
    db.pragma('writable_schema = ON');
    db.prepare(
      "UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (format IN (''dicom'', ''png'', ''jpeg''))', 'CHECK (format IN (''dicom'', ''png'', ''jpeg'', ''tiff''))') " +
        "WHERE type = 'table' AND name = 'images'",
    ).run();
    db.pragma(`schema_version = ${version + 1}`);
    db.pragma('writable_schema = OFF');
  } finally {
    db.unsafeMode(false);
  }
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'patients, studies, images, model runs, landmark set versions, stage results, audit log, settings',
    sql: `
      CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        dicom_patient_id TEXT NOT NULL UNIQUE,
        name TEXT,
        sex TEXT,
        birth_date TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE studies (
        id INTEGER PRIMARY KEY,
        patient_ref INTEGER REFERENCES patients(id),
        study_instance_uid TEXT UNIQUE,
        study_date TEXT,
        description TEXT,
        age_years REAL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX studies_by_patient ON studies(patient_ref);
      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        study_ref INTEGER NOT NULL REFERENCES studies(id),
        sha256 TEXT NOT NULL UNIQUE,
        stored_path TEXT NOT NULL,
        original_name TEXT NOT NULL,
        byte_size INTEGER NOT NULL,
        format TEXT NOT NULL CHECK (format IN ('dicom', 'png', 'jpeg')),
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        frames INTEGER NOT NULL,
        file_spacing_row_mm REAL,
        file_spacing_col_mm REAL,
        file_spacing_source TEXT,
        file_spacing_detail TEXT,
        cal_row_mm REAL,
        cal_col_mm REAL,
        cal_method TEXT CHECK (cal_method IN ('entered', 'two-points')),
        cal_detail TEXT,
        cal_by TEXT,
        cal_at TEXT,
        review_status TEXT NOT NULL DEFAULT 'unreviewed'
          CHECK (review_status IN ('unreviewed', 'in-progress', 'approved')),
        reviewed_by TEXT,
        reviewed_at TEXT,
        latest_set_ref INTEGER REFERENCES landmark_sets(id),
        ai_set_ref INTEGER REFERENCES landmark_sets(id),
        min_confidence REAL,
        imported_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX images_by_study ON images(study_ref);
      -- Wide values live beside the narrow rows the worklist scans.
      CREATE TABLE image_info (
        image_ref INTEGER PRIMARY KEY REFERENCES images(id),
        info_json TEXT NOT NULL
      );
      CREATE TABLE model_runs (
        id INTEGER PRIMARY KEY,
        image_ref INTEGER NOT NULL REFERENCES images(id),
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        provider TEXT NOT NULL,
        timings_json TEXT NOT NULL,
        landmarks_json TEXT NOT NULL,
        confidences_json TEXT NOT NULL,
        quality_json TEXT,
        min_confidence REAL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX model_runs_by_image ON model_runs(image_ref);
      CREATE TABLE landmark_sets (
        id INTEGER PRIMARY KEY,
        image_ref INTEGER NOT NULL REFERENCES images(id),
        version INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('ai', 'edit', 'revert', 'manual', 'import')),
        base_ref INTEGER REFERENCES landmark_sets(id),
        reverted_from_ref INTEGER REFERENCES landmark_sets(id),
        model_run_ref INTEGER REFERENCES model_runs(id),
        author TEXT NOT NULL,
        created_at TEXT NOT NULL,
        points_json TEXT NOT NULL,
        moved_json TEXT,
        note TEXT,
        UNIQUE (image_ref, version)
      );
      CREATE TRIGGER landmark_sets_are_never_updated BEFORE UPDATE ON landmark_sets
        BEGIN SELECT RAISE(ABORT, 'landmark set versions are never changed; save a new version'); END;
      CREATE TRIGGER landmark_sets_are_never_deleted BEFORE DELETE ON landmark_sets
        BEGIN SELECT RAISE(ABORT, 'landmark set versions are never deleted'); END;
      CREATE TABLE stage_results (
        set_ref INTEGER PRIMARY KEY REFERENCES landmark_sets(id),
        kind TEXT NOT NULL CHECK (kind IN ('stage', 'no-fit', 'error')),
        stage TEXT,
        label TEXT NOT NULL,
        borderline INTEGER NOT NULL,
        spacing_row_mm REAL,
        spacing_col_mm REAL,
        computed_at TEXT NOT NULL
      );
      CREATE TABLE stage_assessments (
        set_ref INTEGER PRIMARY KEY REFERENCES landmark_sets(id),
        assessment_deflated BLOB NOT NULL
      );
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        author TEXT NOT NULL,
        action TEXT NOT NULL,
        image_ref INTEGER REFERENCES images(id),
        summary TEXT NOT NULL,
        before_json TEXT,
        after_json TEXT
      );
      CREATE INDEX audit_by_image ON audit_log(image_ref, id);
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'worklist indexes (default order, review status and study date filters)',
    sql: `
      CREATE INDEX images_by_updated ON images(updated_at, id);
      CREATE INDEX images_by_review ON images(review_status, updated_at);
      CREATE INDEX studies_by_date ON studies(study_date);
    `,
  },
  {
    version: 3,
    name: 'landmark_sets.from_prediction_json: the names whose position was taken from a model prediction',
    sql: `
      ALTER TABLE landmark_sets ADD COLUMN from_prediction_json TEXT;
    `,
  },
  {
    version: 4,
    name: "images.format admits 'tiff' (TIFF import)",
    sql: '',
    apply: admitTiffFormat,
  },
  {
    version: 5,
    name: 'studies.entered_sex and studies.age_entered: age and sex typed by a user for files that carry none (PNG/JPEG)',
    sql: `
      ALTER TABLE studies ADD COLUMN entered_sex TEXT CHECK (entered_sex IN ('M', 'F', 'O'));
      ALTER TABLE studies ADD COLUMN age_entered INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 6,
    name: 'PACS: instances retrieved (by SOP Instance UID), the outbox of results to send, patient links',
    sql: `
      -- One row per instance retrieved from a PACS: the SOP Instance UID is never fetched or stored twice.
      CREATE TABLE pacs_instances (
        sop_instance_uid TEXT PRIMARY KEY,
        image_ref INTEGER REFERENCES images(id),
        study_instance_uid TEXT NOT NULL,
        series_instance_uid TEXT NOT NULL,
        sop_class_uid TEXT,
        issuer_of_patient_id TEXT,
        source_url TEXT NOT NULL,
        skipped_reason TEXT,
        retrieved_at TEXT NOT NULL
      );
      CREATE INDEX pacs_instances_by_image ON pacs_instances(image_ref);
      -- Results waiting to be stored on the PACS (DICOM SR, Secondary Capture); kept after sending.
      CREATE TABLE pacs_outbox (
        id INTEGER PRIMARY KEY,
        image_ref INTEGER NOT NULL REFERENCES images(id),
        set_ref INTEGER REFERENCES landmark_sets(id),
        kind TEXT NOT NULL CHECK (kind IN ('sr', 'sc')),
        sop_instance_uid TEXT NOT NULL UNIQUE,
        study_instance_uid TEXT NOT NULL,
        predecessor_uid TEXT,
        verified INTEGER NOT NULL,
        dicom BLOB NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_error TEXT,
        destination TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
      );
      CREATE INDEX pacs_outbox_by_image ON pacs_outbox(image_ref, id);
      CREATE INDEX pacs_outbox_due ON pacs_outbox(status, next_attempt_at);
      -- Patients the user declared to be one person (merge) despite different IDs; split deletes the link.
      CREATE TABLE patient_links (
        patient_ref INTEGER PRIMARY KEY REFERENCES patients(id),
        same_as_ref INTEGER NOT NULL REFERENCES patients(id),
        linked_by TEXT NOT NULL,
        linked_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'hand-wrist radiographs: recognised kind of each image, bone-age results (the sex typed by a user is studies.entered_sex of migration 5)',
    sql: `
      CREATE TABLE radiograph_kinds (
        image_ref INTEGER PRIMARY KEY REFERENCES images(id),
        kind TEXT NOT NULL CHECK (kind IN ('cephalogram', 'hand', 'other')),
        uncertain INTEGER NOT NULL,
        probabilities_json TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE bone_age_results (
        id INTEGER PRIMARY KEY,
        image_ref INTEGER NOT NULL REFERENCES images(id),
        months REAL NOT NULL,
        sd_months REAL NOT NULL,
        low_months REAL NOT NULL,
        high_months REAL NOT NULL,
        level REAL NOT NULL,
        sex TEXT NOT NULL CHECK (sex IN ('M', 'F')),
        sex_source TEXT NOT NULL,
        members_json TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX bone_age_by_image ON bone_age_results(image_ref, id);
      CREATE TRIGGER bone_age_results_are_never_updated BEFORE UPDATE ON bone_age_results
        BEGIN SELECT RAISE(ABORT, 'bone-age results are never changed; record a new one'); END;
    `,
  },
  {
    version: 8,
    name: 'worklist summary columns on images, kept by triggers, and their indexes (fast at 100,000 studies)',
    sql: `
      -- Copies of the joined values the worklist sorts and filters by, so that every sort and filter is an
      -- index on one table. Triggers keep them equal to their sources; nothing else writes them.
      ALTER TABLE images ADD COLUMN wl_patient_name TEXT;
      ALTER TABLE images ADD COLUMN wl_patient_id TEXT;
      ALTER TABLE images ADD COLUMN wl_study_date TEXT;
      ALTER TABLE images ADD COLUMN wl_age_years REAL;
      ALTER TABLE images ADD COLUMN wl_stage TEXT;
      ALTER TABLE images ADD COLUMN wl_stage_kind TEXT;
      -- Lower-case patient name, patient id and file name: what the worklist search matches.
      ALTER TABLE images ADD COLUMN wl_search TEXT;

      CREATE INDEX images_by_latest_set ON images(latest_set_ref);

      UPDATE images SET
        wl_patient_name = (SELECT p.name FROM studies st JOIN patients p ON p.id = st.patient_ref WHERE st.id = images.study_ref),
        wl_patient_id = (SELECT p.dicom_patient_id FROM studies st JOIN patients p ON p.id = st.patient_ref WHERE st.id = images.study_ref),
        wl_study_date = (SELECT study_date FROM studies WHERE id = images.study_ref),
        wl_age_years = (SELECT age_years FROM studies WHERE id = images.study_ref),
        wl_stage = (SELECT stage FROM stage_results WHERE set_ref = images.latest_set_ref),
        wl_stage_kind = (SELECT kind FROM stage_results WHERE set_ref = images.latest_set_ref);
      UPDATE images SET wl_search = lower(coalesce(wl_patient_name, '') || char(10) || coalesce(wl_patient_id, '') || char(10) || original_name);

      CREATE TRIGGER images_wl_on_insert AFTER INSERT ON images BEGIN
        UPDATE images SET
          wl_patient_name = (SELECT p.name FROM studies st JOIN patients p ON p.id = st.patient_ref WHERE st.id = NEW.study_ref),
          wl_patient_id = (SELECT p.dicom_patient_id FROM studies st JOIN patients p ON p.id = st.patient_ref WHERE st.id = NEW.study_ref),
          wl_study_date = (SELECT study_date FROM studies WHERE id = NEW.study_ref),
          wl_age_years = (SELECT age_years FROM studies WHERE id = NEW.study_ref),
          wl_stage = (SELECT stage FROM stage_results WHERE set_ref = NEW.latest_set_ref),
          wl_stage_kind = (SELECT kind FROM stage_results WHERE set_ref = NEW.latest_set_ref)
        WHERE id = NEW.id;
      END;
      CREATE TRIGGER images_wl_on_study AFTER UPDATE OF study_ref ON images BEGIN
        UPDATE images SET
          wl_patient_name = (SELECT p.name FROM studies st JOIN patients p ON p.id = st.patient_ref WHERE st.id = NEW.study_ref),
          wl_patient_id = (SELECT p.dicom_patient_id FROM studies st JOIN patients p ON p.id = st.patient_ref WHERE st.id = NEW.study_ref),
          wl_study_date = (SELECT study_date FROM studies WHERE id = NEW.study_ref),
          wl_age_years = (SELECT age_years FROM studies WHERE id = NEW.study_ref)
        WHERE id = NEW.id;
      END;
      CREATE TRIGGER images_wl_on_latest AFTER UPDATE OF latest_set_ref ON images BEGIN
        UPDATE images SET
          wl_stage = (SELECT stage FROM stage_results WHERE set_ref = NEW.latest_set_ref),
          wl_stage_kind = (SELECT kind FROM stage_results WHERE set_ref = NEW.latest_set_ref)
        WHERE id = NEW.id;
      END;
      CREATE TRIGGER images_wl_search AFTER UPDATE OF wl_patient_name, wl_patient_id, original_name ON images BEGIN
        UPDATE images SET wl_search = lower(coalesce(NEW.wl_patient_name, '') || char(10) || coalesce(NEW.wl_patient_id, '') || char(10) || NEW.original_name)
        WHERE id = NEW.id;
      END;
      CREATE TRIGGER studies_wl_on_update AFTER UPDATE OF patient_ref, study_date, age_years ON studies BEGIN
        UPDATE images SET
          wl_patient_name = (SELECT name FROM patients WHERE id = NEW.patient_ref),
          wl_patient_id = (SELECT dicom_patient_id FROM patients WHERE id = NEW.patient_ref),
          wl_study_date = NEW.study_date,
          wl_age_years = NEW.age_years
        WHERE study_ref = NEW.id;
      END;
      CREATE TRIGGER patients_wl_on_update AFTER UPDATE OF name, dicom_patient_id ON patients BEGIN
        UPDATE images SET wl_patient_name = NEW.name, wl_patient_id = NEW.dicom_patient_id
        WHERE study_ref IN (SELECT id FROM studies WHERE patient_ref = NEW.id);
      END;
      CREATE TRIGGER stage_results_wl_on_insert AFTER INSERT ON stage_results BEGIN
        UPDATE images SET wl_stage = NEW.stage, wl_stage_kind = NEW.kind WHERE latest_set_ref = NEW.set_ref;
      END;
      CREATE TRIGGER stage_results_wl_on_update AFTER UPDATE ON stage_results BEGIN
        UPDATE images SET wl_stage = NEW.stage, wl_stage_kind = NEW.kind WHERE latest_set_ref = NEW.set_ref;
      END;

      -- One index per worklist sort and direction (nulls last either way, then the image id for stable
      -- paging), and the filters.
      CREATE INDEX images_wl_patient_name ON images(wl_patient_name IS NULL, wl_patient_name, id);
      CREATE INDEX images_wl_patient_name_desc ON images(wl_patient_name IS NULL, wl_patient_name DESC, id DESC);
      CREATE INDEX images_wl_patient_id ON images(wl_patient_id IS NULL, wl_patient_id, id);
      CREATE INDEX images_wl_patient_id_desc ON images(wl_patient_id IS NULL, wl_patient_id DESC, id DESC);
      CREATE INDEX images_wl_study_date ON images(wl_study_date IS NULL, wl_study_date, id);
      CREATE INDEX images_wl_study_date_desc ON images(wl_study_date IS NULL, wl_study_date DESC, id DESC);
      CREATE INDEX images_wl_age ON images(wl_age_years IS NULL, wl_age_years, id);
      CREATE INDEX images_wl_age_desc ON images(wl_age_years IS NULL, wl_age_years DESC, id DESC);
      CREATE INDEX images_wl_stage ON images(wl_stage IS NULL, wl_stage, id);
      CREATE INDEX images_wl_stage_desc ON images(wl_stage IS NULL, wl_stage DESC, id DESC);
      CREATE INDEX images_wl_confidence ON images(min_confidence IS NULL, min_confidence, id);
      CREATE INDEX images_wl_confidence_desc ON images(min_confidence IS NULL, min_confidence DESC, id DESC);
      CREATE INDEX images_wl_imported ON images(imported_at, id);
      CREATE INDEX images_wl_file ON images(original_name, id);
      CREATE INDEX images_wl_review_sort ON images(review_status, id);
      CREATE INDEX images_wl_stage_filter ON images(wl_stage, review_status, updated_at, id);
      CREATE INDEX images_wl_kind_filter ON images(wl_stage_kind, updated_at, id);
      CREATE INDEX images_wl_date_filter ON images(wl_study_date, id);
      CREATE INDEX images_wl_search ON images(wl_search);

      -- Substring search without a table scan: a trigram index of wl_search (words of 3+ characters).
      CREATE VIRTUAL TABLE images_search USING fts5(text, tokenize = 'trigram', content = '', contentless_delete = 1);
      INSERT INTO images_search (rowid, text) SELECT id, wl_search FROM images;
      CREATE TRIGGER images_search_on_insert AFTER INSERT ON images BEGIN
        INSERT INTO images_search (rowid, text) VALUES (NEW.id, NEW.wl_search);
      END;
      CREATE TRIGGER images_search_on_update AFTER UPDATE OF wl_search ON images BEGIN
        DELETE FROM images_search WHERE rowid = NEW.id;
        INSERT INTO images_search (rowid, text) VALUES (NEW.id, NEW.wl_search);
      END;
      CREATE TRIGGER images_search_on_delete AFTER DELETE ON images BEGIN
        DELETE FROM images_search WHERE rowid = OLD.id;
      END;
    `,
  },
  {
    version: 9,
    name: 'stage_results: the clinician-fitted staging model (probability, runner-up, confidence, textbook stage, model id), copied onto images for the worklist',
    sql: `
      ALTER TABLE stage_results ADD COLUMN probability REAL;
      ALTER TABLE stage_results ADD COLUMN runner_up TEXT;
      ALTER TABLE stage_results ADD COLUMN runner_up_probability REAL;
      ALTER TABLE stage_results ADD COLUMN confidence TEXT;
      ALTER TABLE stage_results ADD COLUMN textbook_stage TEXT;
      ALTER TABLE stage_results ADD COLUMN stage_model TEXT;

      -- The worklist sorts by the stage probability and filters by the confidence word: copies on images, kept
      -- by triggers like those of migration 8.
      ALTER TABLE images ADD COLUMN wl_stage_probability REAL;
      ALTER TABLE images ADD COLUMN wl_stage_confidence TEXT;
      UPDATE images SET
        wl_stage_probability = (SELECT probability FROM stage_results WHERE set_ref = images.latest_set_ref),
        wl_stage_confidence = (SELECT confidence FROM stage_results WHERE set_ref = images.latest_set_ref);
      CREATE TRIGGER images_wl_model_on_insert AFTER INSERT ON images BEGIN
        UPDATE images SET
          wl_stage_probability = (SELECT probability FROM stage_results WHERE set_ref = NEW.latest_set_ref),
          wl_stage_confidence = (SELECT confidence FROM stage_results WHERE set_ref = NEW.latest_set_ref)
        WHERE id = NEW.id;
      END;
      CREATE TRIGGER images_wl_model_on_latest AFTER UPDATE OF latest_set_ref ON images BEGIN
        UPDATE images SET
          wl_stage_probability = (SELECT probability FROM stage_results WHERE set_ref = NEW.latest_set_ref),
          wl_stage_confidence = (SELECT confidence FROM stage_results WHERE set_ref = NEW.latest_set_ref)
        WHERE id = NEW.id;
      END;
      CREATE TRIGGER stage_results_wl_model_on_insert AFTER INSERT ON stage_results BEGIN
        UPDATE images SET wl_stage_probability = NEW.probability, wl_stage_confidence = NEW.confidence WHERE latest_set_ref = NEW.set_ref;
      END;
      CREATE TRIGGER stage_results_wl_model_on_update AFTER UPDATE ON stage_results BEGIN
        UPDATE images SET wl_stage_probability = NEW.probability, wl_stage_confidence = NEW.confidence WHERE latest_set_ref = NEW.set_ref;
      END;
      CREATE INDEX images_wl_stage_probability ON images(wl_stage_probability IS NULL, wl_stage_probability, id);
      CREATE INDEX images_wl_stage_probability_desc ON images(wl_stage_probability IS NULL, wl_stage_probability DESC, id DESC);
      CREATE INDEX images_wl_stage_confidence_filter ON images(wl_stage_confidence, updated_at, id);
    `,
  },
  {
    version: 10,
    name: 'patient identity: studies split off the patient they were filed under (reversible, audit-logged); retrieved instances by study',
    sql: `
      -- A study the user declared to be of another person than the patient it was filed under: it leaves
      -- that patient's timeline and stands alone; rejoining deletes the row. Nothing else is rewritten.
      CREATE TABLE study_splits (
        study_ref INTEGER PRIMARY KEY REFERENCES studies(id),
        patient_ref INTEGER NOT NULL REFERENCES patients(id),
        split_by TEXT NOT NULL,
        split_at TEXT NOT NULL
      );
      -- The PACS search shows how many instances of each listed study are already here: one lookup per study.
      CREATE INDEX pacs_instances_by_study ON pacs_instances(study_instance_uid);
    `,
  },
  {
    version: 11,
    name: "images: the landmark model's verdict and largest expected error (mm) of the 'ai' version, for the worklist instead of the raw heatmap peak",
    sql: `
      -- Copies on images of the 'ai' version's model-run quality record (main/services/analysis.ts writes its
      -- verdict and expectedErrorMm), kept by a trigger like those of migrations 8-9.
      ALTER TABLE images ADD COLUMN ai_verdict TEXT;
      ALTER TABLE images ADD COLUMN ai_max_expected_mm REAL;
      UPDATE images SET
        ai_verdict = (SELECT json_extract(m.quality_json, '$.verdict') FROM landmark_sets s JOIN model_runs m ON m.id = s.model_run_ref
                      WHERE s.id = images.ai_set_ref AND json_valid(m.quality_json)),
        ai_max_expected_mm = (SELECT max(j.value) FROM landmark_sets s JOIN model_runs m ON m.id = s.model_run_ref,
                              json_each(m.quality_json, '$.expectedErrorMm') j
                              WHERE s.id = images.ai_set_ref AND json_valid(m.quality_json) AND j.type IN ('real', 'integer'));
      CREATE TRIGGER images_ai_check_on_ai AFTER UPDATE OF ai_set_ref ON images BEGIN
        UPDATE images SET
          ai_verdict = (SELECT json_extract(m.quality_json, '$.verdict') FROM landmark_sets s JOIN model_runs m ON m.id = s.model_run_ref
                        WHERE s.id = NEW.ai_set_ref AND json_valid(m.quality_json)),
          ai_max_expected_mm = (SELECT max(j.value) FROM landmark_sets s JOIN model_runs m ON m.id = s.model_run_ref,
                                json_each(m.quality_json, '$.expectedErrorMm') j
                                WHERE s.id = NEW.ai_set_ref AND json_valid(m.quality_json) AND j.type IN ('real', 'integer'))
        WHERE id = NEW.id;
      END;
      CREATE INDEX images_wl_expected_error ON images(ai_max_expected_mm IS NULL, ai_max_expected_mm, id);
      CREATE INDEX images_wl_expected_error_desc ON images(ai_max_expected_mm IS NULL, ai_max_expected_mm DESC, id DESC);
    `,
  },
  {
    version: 12,
    name: 'pacs_report_pages: the report page the app drew for an image, the pixels of its DICOM Secondary Capture',
    sql: `
      -- One page per image: the PNG of the one-page report (main/pacs/report-page.ts), for the landmark
      -- version and review state it shows; a newer page replaces it.
      CREATE TABLE pacs_report_pages (
        image_ref INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
        set_ref INTEGER NOT NULL REFERENCES landmark_sets(id),
        review_status TEXT NOT NULL,
        review_at TEXT,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        png BLOB NOT NULL,
        author TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 13,
    name: 'stage_results: staged once more, so that an anatomically impossible landmark set keeps no stage (main/store/stage.ts)',
    sql: `
      -- Data only: the store restages every result without a staging model when it opens (restageOutdated).
      UPDATE stage_results SET stage_model = NULL WHERE kind = 'stage';
    `,
  },
];

const latestMigration = MIGRATIONS.at(-1);
if (!latestMigration) throw new Error('migrations.ts: the migration list is empty');
export const LATEST_SCHEMA_VERSION = latestMigration.version;
