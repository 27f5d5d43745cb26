/**
 * The calibration of an image (entered or measured between two points), which overrides the file's spacing.
 * The stage depends on the spacing (thresholds in mm): a change restages every version of the image and, when
 * the study was approved, sends it back to review.
 */
import type { CalibrationResponse, StageSummary } from '../../core/api/studies';
import { now, type Connection } from './connection';
import type { ImageRepository } from './images';
import type { ReviewRepository } from './review';
import { calibrationOf, effectiveSpacingOf } from './rows';
import type { StageRepository } from './stages';
import type { VersionRepository } from './versions';

export interface CalibrationInput {
  readonly rowMm: number;
  readonly colMm: number;
  readonly method: 'entered' | 'two-points';
  readonly detail: string;
}

export class CalibrationRepository {
  constructor(
    private readonly sql: Connection,
    private readonly images: ImageRepository,
    private readonly versions: VersionRepository,
    private readonly stages: StageRepository,
    private readonly review: ReviewRepository,
  ) {}

  set(imageId: number, input: CalibrationInput | null, author: string): CalibrationResponse {
    return this.sql.write('save the calibration', () => this.apply(imageId, input, author));
  }

  /** `set` inside the caller's write (the import of a file with an entered spacing). */
  apply(imageId: number, input: CalibrationInput | null, author: string): CalibrationResponse {
    const before = this.images.row(imageId);
    const t = now();
    this.sql.run(
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
    const image = this.images.row(imageId);
    // The stage depends on the spacing (thresholds in mm): recompute it for every version of this image.
    const records = this.stages.restage(this.versions.setsOf(imageId), image);
    const latest = image.latest_set_ref === null ? undefined : records.get(image.latest_set_ref);
    const stage: StageSummary | null = latest?.summary ?? null;
    const spacing = effectiveSpacingOf(image);
    // A new spacing can change the stage of approved landmarks: the study goes back to review.
    const spacingBefore = effectiveSpacingOf(before);
    const spacingChanged = spacingBefore?.rowMm !== spacing?.rowMm || spacingBefore?.colMm !== spacing?.colMm;
    const withdrawn = spacingChanged && before.review_status === 'approved' && image.latest_set_ref !== null;
    if (withdrawn) this.review.withdrawApproval(before, author, 'the calibration changed');
    this.sql.audit(
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
}
