/**
 * Landmark versions (immutable, numbered per image) and the model runs that produce the 'ai' ones. Every
 * version is staged as it is written; a human version starts or re-opens the review.
 */
import type {
  LandmarkPoints,
  LandmarkSetKind,
  ReviewState,
  ReviewStatus,
  SavedVersion,
  StageSummary,
} from '../../core/api/studies';
import { LANDMARK_NAMES, type LandmarkName } from '../../core/landmarks/index';
import { now, type Connection } from './connection';
import { StoreError } from './errors';
import type { ImageRepository } from './images';
import type { ReviewRepository } from './review';
import {
  equalPointNames,
  pointsFromJson,
  pointsToJson,
  predictionNamesOf,
  type ImageRow,
  type LandmarkSetRow,
} from './rows';
import type { StageRecord } from './stage';
import { SET_WITH_STAGE, type StageRepository } from './stages';

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

export class VersionRepository {
  constructor(
    private readonly sql: Connection,
    private readonly images: ImageRepository,
    private readonly stages: StageRepository,
    private readonly review: ReviewRepository,
  ) {}

  /** One version with its stage. */
  setRow(setId: number): LandmarkSetRow | undefined {
    return this.sql.get<LandmarkSetRow>(`SELECT ${SET_WITH_STAGE} WHERE ls.id = ?`, setId);
  }

  /** Every version of an image with its stage, newest first. */
  setsOf(imageId: number): LandmarkSetRow[] {
    return this.sql.all<LandmarkSetRow>(
      `SELECT ${SET_WITH_STAGE} WHERE ls.image_ref = ? ORDER BY ls.version DESC`,
      imageId,
    );
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
      (this.sql.get<{ v: number | null }>('SELECT MAX(version) AS v FROM landmark_sets WHERE image_ref = ?', image.id)
        ?.v ?? 0) + 1;
    const t = now();
    const setId = Number(
      this.sql.run(
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
    const stage = this.stages.write(setId, fields.points, image, fields.fromPrediction);
    return { setId, version, stage };
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
    return this.sql.write('record the model run', () => {
      const image = this.images.row(imageId);
      const confidences = Object.values(run.confidences).filter((c): c is number => typeof c === 'number');
      const minConfidence = confidences.length > 0 ? Math.min(...confidences) : null;
      const t = now();
      const runId = Number(
        this.sql.run(
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
      this.sql.run(
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
      if (withdrawn) this.review.withdrawApproval(image, author, 'a re-analysis replaced the approved landmarks');
      this.sql.audit(
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
    return this.sql.write('save the landmarks', () => {
      const image = this.images.row(imageId);
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
      this.sql.run(
        'UPDATE images SET latest_set_ref = ?, review_status = ?, reviewed_by = NULL, reviewed_at = NULL, updated_at = ? WHERE id = ?',
        setId,
        status,
        t,
        imageId,
      );
      const stageBefore = previous?.stage_label ?? null;
      this.sql.audit(
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
    const names = new Set<LandmarkName>();
    if (previous) {
      const unmoved = equalPointNames(points, pointsFromJson(previous.points_json));
      for (const n of predictionNamesOf(previous)) if (unmoved.includes(n)) names.add(n);
    }
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
    const target = this.sql.read('read a landmark version', () => this.setRow(toVersionId));
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
}
