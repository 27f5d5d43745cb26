/**
 * Sends the outbox to the PACS (STOW-RS), one item per request, with exponential backoff after a failure
 * (30 s, 1, 2, 4... minutes, at most 1 hour; permanent refusals such as 401/403 wait for the user). Only
 * what the server confirms is marked sent, so an item is delivered once even when the server dies mid-push
 * (a re-send of the same SOP Instance UID replaces the same instance on the server).
 */
import type { Store } from '../store/store';
import type { DicomWebClient } from './client';
import { PacsError } from './http';
import { PacsRepo, type OutboxRow } from './repo';

export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_MAX_MS = 3_600_000;

export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

export interface SendReport {
  readonly sent: ReadonlyArray<{ id: number; kind: string; sopInstanceUid: string; imageId: number }>;
  readonly failed: ReadonlyArray<{
    id: number;
    kind: string;
    sopInstanceUid: string;
    imageId: number;
    error: string;
    retryAt: string | null;
  }>;
  readonly ms: number;
}

export interface SendOptions {
  readonly author: string;
  /** Only these images. */
  readonly imageIds?: readonly number[];
  /** Send failed items now instead of waiting for their retry time. */
  readonly ignoreBackoff?: boolean;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** After each item, sent or failed. */
  readonly onItem?: (item: {
    id: number;
    kind: string;
    imageId: number;
    ok: boolean;
    error?: string;
  }) => void | Promise<void>;
}

const PERMANENT: ReadonlySet<string> = new Set([
  'unauthorized',
  'forbidden',
  'not-dicomweb',
  'invalid-settings',
  'tls',
]);

export async function sendOutbox(store: Store, client: DicomWebClient, options: SendOptions): Promise<SendReport> {
  const start = performance.now();
  const repo = new PacsRepo(store);
  const clock = options.now ?? (() => new Date());
  const items: OutboxRow[] = options.ignoreBackoff
    ? repo.unsent(options.imageIds)
    : repo.due(clock(), options.imageIds);
  const sent: SendReport['sent'][number][] = [];
  const failed: SendReport['failed'][number][] = [];
  for (const item of items) {
    if (options.signal?.aborted) break;
    try {
      const outcome = await client.storeInstances(
        [{ sopInstanceUid: item.sop_instance_uid, bytes: repo.dicomOf(item.id) }],
        item.study_instance_uid,
        options.signal,
      );
      if (!outcome.stored.includes(item.sop_instance_uid)) {
        const why = outcome.failed.find((f) => f.sopInstanceUid === item.sop_instance_uid)?.reason ?? 'not confirmed';
        throw new PacsError('server', `The PACS did not store ${item.sop_instance_uid}: ${why}.`);
      }
      repo.markSent(item.id, client.displayUrl, options.author);
      sent.push({ id: item.id, kind: item.kind, sopInstanceUid: item.sop_instance_uid, imageId: item.image_ref });
      await options.onItem?.({ id: item.id, kind: item.kind, imageId: item.image_ref, ok: true });
    } catch (error) {
      if (error instanceof PacsError && error.kind === 'cancelled') break;
      const message = (error as Error).message;
      const permanent = error instanceof PacsError && PERMANENT.has(error.kind);
      const retryAt = permanent ? null : new Date(clock().getTime() + backoffMs(item.attempts + 1));
      repo.markFailed(item.id, message, retryAt, client.displayUrl);
      failed.push({
        id: item.id,
        kind: item.kind,
        sopInstanceUid: item.sop_instance_uid,
        imageId: item.image_ref,
        error: message,
        retryAt: retryAt?.toISOString() ?? null,
      });
      await options.onItem?.({ id: item.id, kind: item.kind, imageId: item.image_ref, ok: false, error: message });
      // The server is down: the rest would fail the same way; they keep their turn.
      if (
        error instanceof PacsError &&
        (error.kind === 'refused' || error.kind === 'unreachable' || error.kind === 'timeout' || permanent)
      )
        break;
    }
  }
  return { sent, failed, ms: Math.round(performance.now() - start) };
}
