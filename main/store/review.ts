/** Review and approval of a study, and the audit log that records every change. */
import type { ReviewState, ReviewStatus } from '../../core/api/studies';
import { now, type Connection } from './connection';
import { StoreError } from './errors';
import type { ImageRepository } from './images';
import type { ImageRow } from './rows';

export interface AuditRow {
  id: number;
  at: string;
  author: string;
  action: string;
  summary: string;
  before_json: string | null;
  after_json: string | null;
}

export class ReviewRepository {
  constructor(
    private readonly sql: Connection,
    private readonly images: ImageRepository,
  ) {}

  /**
   * Changes the review status. The approval rules are checked by the service (main/services/studies.ts);
   * `confirmation` holds the reasons a user confirmed when the rules asked, and goes into the audit log.
   */
  setStatus(imageId: number, status: ReviewStatus, author: string, confirmation?: string): ReviewState {
    return this.sql.write('change the review status', () => {
      const image = this.images.row(imageId);
      // A hand-wrist radiograph has no landmarks: its bone age is what gets approved (main/store/boneage.ts).
      const hasBoneAge =
        this.sql.getRequired<{ n: number }>(
          'bone-age result count',
          'SELECT COUNT(*) AS n FROM bone_age_results WHERE image_ref = ?',
          imageId,
        ).n > 0;
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
      this.sql.run(
        'UPDATE images SET review_status = ?, reviewed_by = ?, reviewed_at = ?, updated_at = ? WHERE id = ?',
        review.status,
        review.by,
        review.at,
        t,
        imageId,
      );
      this.sql.audit(
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

  /**
   * An approval applies to what was approved: when that changes, the study goes back to review (audited).
   * Inside the caller's write.
   */
  withdrawApproval(image: ImageRow, author: string, why: string): void {
    this.sql.run(
      "UPDATE images SET review_status = 'in-progress', reviewed_by = NULL, reviewed_at = NULL WHERE id = ?",
      image.id,
    );
    this.sql.audit(
      author,
      'review',
      image.id,
      `review status approved -> in-progress: ${why}`,
      { status: image.review_status, by: image.reviewed_by },
      { status: 'in-progress', by: null, at: null },
    );
  }

  /** The newest `limit` audit rows, of one image or of all. */
  auditLog(imageId: number | null, limit = 1000): AuditRow[] {
    return this.sql.read('read the audit log', () =>
      imageId === null
        ? this.sql.all<AuditRow>(
            'SELECT id, at, author, action, summary, before_json, after_json FROM audit_log ORDER BY id DESC LIMIT ?',
            limit,
          )
        : this.sql.all<AuditRow>(
            'SELECT id, at, author, action, summary, before_json, after_json FROM audit_log WHERE image_ref = ? ORDER BY id DESC LIMIT ?',
            imageId,
            limit,
          ),
    );
  }
}
