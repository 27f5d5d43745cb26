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
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
