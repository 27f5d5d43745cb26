/**
 * The PACS tables of the store (migration 4): which SOP Instance UIDs were retrieved into which image, and
 * the outbox of results (SR, Secondary Capture) to send, with attempts, backoff and the last error.
 */
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

const now = (): string => new Date().toISOString();

function audit(
  store: Store,
  author: string,
  action: string,
  imageId: number | null,
  summary: string,
  after?: unknown,
): void {
  store.db
    .prepare(
      'INSERT INTO audit_log (at, author, action, image_ref, summary, before_json, after_json) VALUES (?, ?, ?, ?, ?, NULL, ?)',
    )
    .run(now(), author, action, imageId, summary, after === undefined ? null : JSON.stringify(after));
}

export class PacsRepo {
  constructor(readonly store: Store) {}

  private tx<T>(fn: () => T): T {
    return this.store.db.transaction(fn).immediate();
  }

  retrievedImageOf(sopInstanceUid: string): number | null | undefined {
    const row = this.store.db
      .prepare('SELECT image_ref FROM pacs_instances WHERE sop_instance_uid = ?')
      .get(sopInstanceUid) as { image_ref: number | null } | undefined;
    return row ? row.image_ref : undefined;
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
    this.tx(() => {
      this.store.db
        .prepare(
          `INSERT INTO pacs_instances (sop_instance_uid, image_ref, study_instance_uid, series_instance_uid, sop_class_uid, issuer_of_patient_id,
          source_url, retrieved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sop_instance_uid) DO NOTHING`,
        )
        .run(r.sopInstanceUid, r.imageId, r.studyUid, r.seriesUid, r.sopClassUid, r.issuer, r.sourceUrl, now());
      audit(this.store, r.author, 'pacs-retrieve', r.imageId, `retrieved ${r.sopInstanceUid} from ${r.sourceUrl}`);
    });
  }

  /** The SOP Instance UID an image was retrieved as (null for imported files). */
  sopOfImage(imageId: number): { sop: string; series: string; study: string } | null {
    const row = this.store.db
      .prepare(
        'SELECT sop_instance_uid, series_instance_uid, study_instance_uid FROM pacs_instances WHERE image_ref = ? LIMIT 1',
      )
      .get(imageId) as
      { sop_instance_uid: string; series_instance_uid: string; study_instance_uid: string } | undefined;
    return row ? { sop: row.sop_instance_uid, series: row.series_instance_uid, study: row.study_instance_uid } : null;
  }

  enqueue(items: readonly NewOutboxItem[], author: string): number[] {
    return this.tx(() =>
      items.map((i) => {
        const id = Number(
          this.store.db
            .prepare(
              `INSERT INTO pacs_outbox (image_ref, set_ref, kind, sop_instance_uid, study_instance_uid, predecessor_uid, verified, dicom,
          status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
            )
            .run(
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
        audit(
          this.store,
          author,
          'pacs-queue',
          i.imageId,
          `queued ${i.kind === 'sr' ? 'structured report' : 'secondary capture'} ${i.sopInstanceUid}${i.verified ? ' (verified)' : ' (unverified)'}`,
        );
        return id;
      }),
    );
  }

  row(id: number): OutboxRow {
    return this.store.db
      .prepare(
        'SELECT id, image_ref, set_ref, kind, sop_instance_uid, study_instance_uid, predecessor_uid, verified, status, attempts, next_attempt_at, last_error, destination, created_at, sent_at FROM pacs_outbox WHERE id = ?',
      )
      .get(id) as OutboxRow;
  }

  dicomOf(id: number): Buffer {
    return (this.store.db.prepare('SELECT dicom FROM pacs_outbox WHERE id = ?').get(id) as { dicom: Buffer }).dicom;
  }

  /** Items whose next attempt is due (pending or failed with a retry time in the past), oldest first. */
  due(at: Date = new Date(), imageIds?: readonly number[]): OutboxRow[] {
    const rows = this.store.db
      .prepare(
        `SELECT id FROM pacs_outbox WHERE status != 'sent' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ? ORDER BY id`,
      )
      .all(at.toISOString()) as Array<{ id: number }>;
    return rows.map((r) => this.row(r.id)).filter((r) => !imageIds || imageIds.includes(r.image_ref));
  }

  /** Every unsent item, due or not (for "send now"). */
  unsent(imageIds?: readonly number[]): OutboxRow[] {
    const rows = this.store.db.prepare(`SELECT id FROM pacs_outbox WHERE status != 'sent' ORDER BY id`).all() as Array<{
      id: number;
    }>;
    return rows.map((r) => this.row(r.id)).filter((r) => !imageIds || imageIds.includes(r.image_ref));
  }

  markSent(id: number, destination: string, author: string): void {
    this.tx(() => {
      this.store.db
        .prepare(
          `UPDATE pacs_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, next_attempt_at = NULL, last_error = NULL, destination = ? WHERE id = ?`,
        )
        .run(now(), destination, id);
      const r = this.row(id);
      audit(
        this.store,
        author,
        'pacs-sent',
        r.image_ref,
        `sent ${r.kind === 'sr' ? 'structured report' : 'secondary capture'} ${r.sop_instance_uid} to ${destination}`,
      );
    });
  }

  /** Records a failed attempt; `retryAt` null: no automatic retry (permanent failure or too many attempts). */
  markFailed(id: number, message: string, retryAt: Date | null, destination: string): void {
    this.tx(() => {
      this.store.db
        .prepare(
          `UPDATE pacs_outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, next_attempt_at = ?, destination = ? WHERE id = ?`,
        )
        .run(message, retryAt ? retryAt.toISOString() : null, destination, id);
    });
  }

  /** Makes a failed item due now again (the user's "retry"). */
  retryNow(id: number): void {
    this.tx(() => {
      this.store.db
        .prepare(`UPDATE pacs_outbox SET next_attempt_at = ? WHERE id = ? AND status != 'sent'`)
        .run(now(), id);
    });
  }

  forImage(imageId: number): OutboxRow[] {
    const rows = this.store.db
      .prepare('SELECT id FROM pacs_outbox WHERE image_ref = ? ORDER BY id')
      .all(imageId) as Array<{ id: number }>;
    return rows.map((r) => this.row(r.id));
  }

  /** The newest SR queued for an image (the predecessor of the next one). */
  latestSr(imageId: number): OutboxRow | null {
    const r = this.store.db
      .prepare(`SELECT id FROM pacs_outbox WHERE image_ref = ? AND kind = 'sr' ORDER BY id DESC LIMIT 1`)
      .get(imageId) as { id: number } | undefined;
    return r ? this.row(r.id) : null;
  }

  /** Send state per image for the worklist: the newest SR's status and error. */
  sendStates(
    imageIds: readonly number[],
  ): Map<number, { status: OutboxStatus; error: string | null; attempts: number; sentAt: string | null }> {
    const out = new Map<
      number,
      { status: OutboxStatus; error: string | null; attempts: number; sentAt: string | null }
    >();
    const stmt = this.store.db.prepare(
      `SELECT status, last_error, attempts, sent_at FROM pacs_outbox WHERE image_ref = ? ORDER BY id DESC LIMIT 1`,
    );
    for (const id of imageIds) {
      const r = stmt.get(id) as
        { status: OutboxStatus; last_error: string | null; attempts: number; sent_at: string | null } | undefined;
      if (r) out.set(id, { status: r.status, error: r.last_error, attempts: r.attempts, sentAt: r.sent_at });
    }
    return out;
  }
}
