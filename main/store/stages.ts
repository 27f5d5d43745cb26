/**
 * Stage results: the stage of every landmark version (stage_results, with its assessment deflated in
 * stage_assessments), recomputed when the spacing or the staging model changes.
 */
import { deflateRawSync } from 'node:zlib';
import type { LandmarkPoints } from '../../core/api/studies';
import type { LandmarkName } from '../../core/landmarks/index';
import { now, type Connection } from './connection';
import type { ImageRepository } from './images';
import { effectiveSpacingOf, pointsFromJson, predictionNamesOf, type ImageRow, type LandmarkSetRow } from './rows';
import { STAGE_MODEL_TAG, type StageFn, type StageRecord } from './stage';

/** The columns of stage_results joined as `sr`, named as StageColumns (main/store/rows.ts) reads them. */
export const STAGE_COLUMNS = `sr.kind AS stage_kind, sr.stage AS stage, sr.label AS stage_label, sr.borderline AS borderline,
  sr.probability AS probability, sr.runner_up AS runner_up, sr.runner_up_probability AS runner_up_probability,
  sr.confidence AS confidence, sr.textbook_stage AS textbook_stage`;

/** A landmark version with its stage: `SELECT ${SET_WITH_STAGE} WHERE ...` reads LandmarkSetRow. */
export const SET_WITH_STAGE = `ls.*, ${STAGE_COLUMNS}
  FROM landmark_sets ls LEFT JOIN stage_results sr ON sr.set_ref = ls.id`;

export class StageRepository {
  private modelColumns: boolean | null = null;

  constructor(
    private readonly sql: Connection,
    private readonly images: ImageRepository,
    private readonly stageOf: StageFn,
  ) {}

  /** Whether stage_results has the staging model's columns (migration 9). */
  private hasModelColumns(): boolean {
    this.modelColumns ??= this.sql
      .all<{ name: string }>('PRAGMA table_info(stage_results)')
      .some((c) => c.name === 'stage_model');
    return this.modelColumns;
  }

  /** Stages `points` with the image's spacing and stores the result of version `setId` (inside a write). */
  write(setId: number, points: LandmarkPoints, image: ImageRow, fromPrediction: readonly LandmarkName[]): StageRecord {
    const spacing = effectiveSpacingOf(image);
    const stage = this.stageOf(points, spacing, fromPrediction);
    const s = stage.summary;
    const values: Array<[string, unknown]> = [
      ['set_ref', setId],
      ['kind', s.kind],
      ['stage', s.stage],
      ['label', s.label],
      ['borderline', s.borderline ? 1 : 0],
      ['spacing_row_mm', spacing?.rowMm ?? null],
      ['spacing_col_mm', spacing?.colMm ?? null],
      ['computed_at', now()],
    ];
    // A database held at an older schema (tests of upgrades) lacks the staging model's columns; the stage is
    // recomputed with them when the store next opens at the latest schema.
    if (this.hasModelColumns()) {
      values.push(
        ['probability', s.probability ?? null],
        ['runner_up', s.runnerUp ?? null],
        ['runner_up_probability', s.runnerUpProbability ?? null],
        ['confidence', s.confidence ?? null],
        ['textbook_stage', s.textbookStage ?? null],
        ['stage_model', STAGE_MODEL_TAG],
      );
    }
    const columns = values.map(([c]) => c);
    this.sql.run(
      `INSERT INTO stage_results (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
       ON CONFLICT(set_ref) DO UPDATE SET ${columns
         .slice(1)
         .map((c) => `${c} = excluded.${c}`)
         .join(', ')}`,
      ...values.map(([, v]) => v),
    );
    this.sql.run(
      `INSERT INTO stage_assessments (set_ref, assessment_deflated) VALUES (?, ?)
       ON CONFLICT(set_ref) DO UPDATE SET assessment_deflated = excluded.assessment_deflated`,
      setId,
      deflateRawSync(stage.assessmentJson),
    );
    return stage;
  }

  /** Restages the given versions of one or more images with each image's current spacing (inside a write). */
  restage(sets: readonly LandmarkSetRow[], image?: ImageRow): Map<number, StageRecord> {
    const images = new Map<number, ImageRow>(image ? [[image.id, image]] : []);
    const records = new Map<number, StageRecord>();
    for (const set of sets) {
      const of = images.get(set.image_ref) ?? this.images.row(set.image_ref);
      images.set(set.image_ref, of);
      records.set(set.id, this.write(set.id, pointsFromJson(set.points_json), of, predictionNamesOf(set)));
    }
    return records;
  }

  /**
   * Recomputes the stored stage of every landmark version staged by another staging model (or before there was
   * one), so the worklist, filters and exports speak of one model. Runs when the store opens; a no-op once done.
   */
  restageOutdated(): void {
    const outdated = this.sql.all<LandmarkSetRow>(
      `SELECT ${SET_WITH_STAGE} WHERE sr.stage_model IS NULL OR sr.stage_model <> ?`,
      STAGE_MODEL_TAG,
    );
    if (outdated.length === 0) return;
    this.sql.write('update the stages to the current staging model', () => this.restage(outdated));
  }
}
