/**
 * The PACS tables of the store (migration 4): which SOP Instance UIDs were retrieved into which image, and
 * the outbox of results (SR, Secondary Capture) to send, with attempts, backoff and the last error. Through
 * the store's connection (main/store/connection.ts): cached statements, each write one IMMEDIATE transaction
 * with its audit row, every statement and transaction timed (slow ones logged by name).
 */
import { now } from '../store/connection';
import type { Store } from '../store/store';

export type OutboxKind = 'sr' | 'sc';
export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface OutboxRow {
  readonly id: number;
  readonly image_ref: number;
  readonly set_ref: number | null;
  readonly kind: OutboxKind;
  readonly sop_instance_uid: string;
  readonly study_instance_uid: string;
  readonly predecessor_uid: string | null;
  readonly verified: number;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly next_attempt_at: string | null;
  readonly last_error: string | null;
  readonly destination: string | null;
  readonly created_at: string;
  readonly sent_at: string | null;
}

export interface NewOutboxItem {
  readonly imageId: number;
  readonly setId: number | null;
  readonly kind: OutboxKind;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly predecessorUid: string | null;
  readonly verified: boolean;
  readonly dicom: Uint8Array;
}

const OUTBOX_COLUMNS =
  'id, image_ref, set_ref, kind, sop_instance_uid, study_instance_uid, predecessor_uid, verified, status, attempts, next_attempt_at, last_error, destination, created_at, sent_at';
const what = (kind: OutboxKind): string => (kind === 'sr' ? 'structured report' : 'secondary capture');

export class PacsRepo {
  private readonly sql: Store['sql'];
  constructor(readonly store: Store) {
    this.sql = store.sql;
  }

  retrievedImageOf(sopInstanceUid: string): number | null | undefined {
    return this.sql.read(
      'look up a retrieved instance',
      () =>
        this.sql.get<{ image_ref: number | null }>(
          'SELECT image_ref FROM pacs_instances WHERE sop_instance_uid = ?',
          sopInstanceUid,
        )?.image_ref,
    );
  }

  recordRetrieved(r: {
    sopInstanceUid: string;
    imageId: number;
    studyUid: string;
    seriesUid: string;
    sopClassUid: string | null;
    issuer: string | null;
    sourceUrl: string;
    author: string;
  }): void {
    this.sql.write('record a retrieved instance', () => {
      this.sql.run(
        `INSERT INTO pacs_instances (sop_instance_uid, image_ref, study_instance_uid, series_instance_uid, sop_class_uid, issuer_of_patient_id,
          source_url, retrieved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sop_instance_uid) DO NOTHING`,
        r.sopInstanceUid,
        r.imageId,
        r.studyUid,
        r.seriesUid,
        r.sopClassUid,
        r.issuer,
        r.sourceUrl,
        now(),
      );
      this.sql.audit(r.author, 'pacs-retrieve', r.imageId, `retrieved ${r.sopInstanceUid} from ${r.sourceUrl}`);
    });
  }

  /** The SOP Instance UID an image was retrieved as (null for imported files). */
  sopOfImage(imageId: number): { sop: string; series: string; study: string } | null {
    const row = this.sql.read('look up a retrieved image', () =>
      this.sql.get<{ sop_instance_uid: string; series_instance_uid: string; study_instance_uid: string }>(
        'SELECT sop_instance_uid, series_instance_uid, study_instance_uid FROM pacs_instances WHERE image_ref = ? LIMIT 1',
        imageId,
      ),
    );
    return row ? { sop: row.sop_instance_uid, series: row.series_instance_uid, study: row.study_instance_uid } : null;
  }

  /** The images of a stored study, by its Study Instance UID. */
  imagesOfStudy(studyInstanceUid: string): number[] {
    return this.sql.read('list the images of a study', () =>
      this.sql
        .all<{ id: number }>(
          'SELECT i.id FROM images i JOIN studies st ON st.id = i.study_ref WHERE st.study_instance_uid = ? ORDER BY i.id',
          studyInstanceUid,
        )
        .map((r) => r.id),
    );
  }

  /** Approved DICOM images with landmarks: what `cvm pacs push --approved` sends. */
  approvedDicomImages(): number[] {
    return this.sql.read('list the approved DICOM images', () =>
      this.sql
        .all<{ id: number }>(
          `SELECT id FROM images WHERE review_status = 'approved' AND format = 'dicom' AND latest_set_ref IS NOT NULL ORDER BY id`,
        )
        .map((r) => r.id),
    );
  }

  /** Instances already here of each of the given studies (one indexed query per 500 studies). */
  localInstanceCounts(studyUids: readonly string[]): Map<string, number> {
    const local = new Map<string, number>();
    this.sql.read('count the instances already here', () => {
      for (let i = 0; i < studyUids.length; i += 500) {
        const uids = studyUids.slice(i, i + 500);
        const counts = this.sql.all<{ uid: string; n: number }>(
          `SELECT study_instance_uid AS uid, COUNT(*) AS n FROM pacs_instances
           WHERE study_instance_uid IN (${uids.map(() => '?').join(',')}) AND image_ref IS NOT NULL
           GROUP BY study_instance_uid`,
          ...uids,
        );
        for (const c of counts) local.set(c.uid, c.n);
      }
    });
    return local;
  }

  enqueue(items: readonly NewOutboxItem[], author: string): number[] {
    return this.sql.write('queue results for the PACS', () =>
      items.map((i) => {
        const id = Number(
          this.sql.run(
            `INSERT INTO pacs_outbox (image_ref, set_ref, kind, sop_instance_uid, study_instance_uid, predecessor_uid, verified, dicom,
          status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
            i.imageId,
            i.setId,
            i.kind,
            i.sopInstanceUid,
            i.studyInstanceUid,
            i.predecessorUid,
            i.verified ? 1 : 0,
            Buffer.from(i.dicom),
            now(),
            now(),
          ).lastInsertRowid,
        );
        this.sql.audit(
          author,
          'pacs-queue',
          i.imageId,
          `queued ${what(i.kind)} ${i.sopInstanceUid}${i.verified ? ' (verified)' : ' (unverified)'}`,
        );
        return id;
      }),
    );
  }

  row(id: number): OutboxRow {
    return this.sql.read('read an outbox item', () =>
      this.sql.getRequired<OutboxRow>(
        `outbox item ${id}`,
        `SELECT ${OUTBOX_COLUMNS} FROM pacs_outbox WHERE id = ?`,
        id,
      ),
    );
  }

  private rows(where: string, ...params: unknown[]): OutboxRow[] {
    return this.sql.read('read the outbox', () =>
      this.sql.all<OutboxRow>(`SELECT ${OUTBOX_COLUMNS} FROM pacs_outbox WHERE ${where} ORDER BY id`, ...params),
    );
  }

  dicomOf(id: number): Buffer {
    return this.sql.read(
      'read a queued DICOM object',
      () =>
        this.sql.getRequired<{ dicom: Buffer }>(`outbox item ${id}`, 'SELECT dicom FROM pacs_outbox WHERE id = ?', id)
          .dicom,
    );
  }

  /** Items whose next attempt is due (pending or failed with a retry time in the past), oldest first. */
  due(at: Date = new Date(), imageIds?: readonly number[]): OutboxRow[] {
    return this.rows(
      `status != 'sent' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?`,
      at.toISOString(),
    ).filter((r) => !imageIds || imageIds.includes(r.image_ref));
  }

  /** Every unsent item, due or not (for "send now"). */
  unsent(imageIds?: readonly number[]): OutboxRow[] {
    return this.rows(`status != 'sent'`).filter((r) => !imageIds || imageIds.includes(r.image_ref));
  }

  markSent(id: number, destination: string, author: string): void {
    this.sql.write('record a sent result', () => {
      this.sql.run(
        `UPDATE pacs_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, next_attempt_at = NULL, last_error = NULL, destination = ? WHERE id = ?`,
        now(),
        destination,
        id,
      );
      const r = this.row(id);
      this.sql.audit(author, 'pacs-sent', r.image_ref, `sent ${what(r.kind)} ${r.sop_instance_uid} to ${destination}`);
    });
  }

  /** Records a failed attempt; `retryAt` null: no automatic retry (permanent failure or too many attempts). */
  markFailed(id: number, message: string, retryAt: Date | null, destination: string): void {
    this.sql.write('record a failed send', () => {
      this.sql.run(
        `UPDATE pacs_outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, next_attempt_at = ?, destination = ? WHERE id = ?`,
        message,
        retryAt ? retryAt.toISOString() : null,
        destination,
        id,
      );
    });
  }

  /** Makes a failed item due now again (the user's "retry"). */
  retryNow(id: number): void {
    this.sql.write('retry a send', () => {
      this.sql.run(`UPDATE pacs_outbox SET next_attempt_at = ? WHERE id = ? AND status != 'sent'`, now(), id);
    });
  }

  forImage(imageId: number): OutboxRow[] {
    return this.rows('image_ref = ?', imageId);
  }

  /** The newest SR queued for an image (the predecessor of the next one). */
  latestSr(imageId: number): OutboxRow | null {
    return this.rows(`image_ref = ? AND kind = 'sr'`, imageId).at(-1) ?? null;
  }

  /**
   * Send state per image for the worklist: "failed" while any of its items failed (the newest such, with its
   * error), else "pending" while any waits, else the newest sent item's. (After a failed SR the SC behind it
   * still waits its turn: the image's state is the failure.)
   */
  sendStates(
    imageIds: readonly number[],
  ): Map<number, { status: OutboxStatus; error: string | null; attempts: number; sentAt: string | null }> {
    const out = new Map<
      number,
      { status: OutboxStatus; error: string | null; attempts: number; sentAt: string | null }
    >();
    this.sql.read('read the send states', () => {
      for (const id of imageIds) {
        const r = this.sql.get<{
          status: OutboxStatus;
          last_error: string | null;
          attempts: number;
          sent_at: string | null;
        }>(
          `SELECT status, last_error, attempts, sent_at FROM pacs_outbox WHERE image_ref = ?
           ORDER BY status = 'failed' DESC, status = 'pending' DESC, id DESC LIMIT 1`,
          id,
        );
        if (r) out.set(id, { status: r.status, error: r.last_error, attempts: r.attempts, sentAt: r.sent_at });
      }
    });
    return out;
  }
}
