/**
 * The save queue of an open study: every finished gesture becomes one saved version, in order, and no
 * edit is ever dropped. A save that fails because the connection broke stays at the head and is retried
 * with backoff; edits made meanwhile wait behind it. Each item carries the whole landmark set, so when a
 * save is refused for good the next item (which contains that edit too) takes its place.
 */
import type { Result } from '../../core/api/result';

export interface SaveItem<L, N> {
  readonly landmarks: L;
  readonly moved: readonly N[];
}

export type QueueState =
  | { readonly kind: 'saved' }
  | { readonly kind: 'saving'; readonly pending: number }
  | { readonly kind: 'retrying'; readonly pending: number; readonly attempt: number; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

export interface SaveQueueDeps<L, N> {
  /** Stores one version on top of `baseVersionId`; returns the new version's id. */
  save(item: SaveItem<L, N>, baseVersionId: number | null): Promise<Result<{ versionId: number }>>;
  /** The latest stored version, used after a conflict to tell "already saved" from "someone else saved". */
  latest(): Promise<Result<{ versionId: number; landmarks: L } | null>>;
  sameLandmarks(a: L, b: L): boolean;
  onState(state: QueueState): void;
  /** Called after the last pending item is stored. */
  onDrained(): void;
  wait(ms: number): Promise<void>;
}

export interface SaveQueue<L, N> {
  push(item: SaveItem<L, N>): void;
  /** Resolves once everything pushed so far is stored or refused. */
  idle(): Promise<void>;
  baseVersionId(): number | null;
  setBaseVersionId(id: number | null): void;
}

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

export function createSaveQueue<L, N>(deps: SaveQueueDeps<L, N>, initialBase: number | null): SaveQueue<L, N> {
  const items: Array<SaveItem<L, N>> = [];
  let base = initialBase;
  let running: Promise<void> | null = null;

  const storeHead = async (head: SaveItem<L, N>): Promise<'stored' | 'refused'> => {
    for (let attempt = 1; ; attempt += 1) {
      const r = await deps.save(head, base);
      if (r.ok) {
        base = r.value.versionId;
        return 'stored';
      }
      if (r.error.code === 'transport') {
        deps.onState({ kind: 'retrying', pending: items.length, attempt, message: r.error.message });
        await deps.wait(RETRY_DELAYS_MS[Math.min(attempt - 1, RETRY_DELAYS_MS.length - 1)] ?? 8000);
        continue;
      }
      if (r.error.code === 'conflict') {
        // A save whose answer was lost with the connection may have been stored after all.
        const latest = await deps.latest();
        if (latest.ok && latest.value) {
          const stored = latest.value;
          base = stored.versionId;
          if (deps.sameLandmarks(stored.landmarks, head.landmarks)) return 'stored';
          continue;
        }
      }
      deps.onState({ kind: 'error', message: r.error.message });
      return 'refused';
    }
  };

  const drain = async (): Promise<void> => {
    // Only the last outcome decides the final state: a later stored item holds every earlier edit.
    let refused = false;
    while (items.length > 0) {
      if (!refused) deps.onState({ kind: 'saving', pending: items.length });
      const head = items[0] as SaveItem<L, N>;
      const outcome = await storeHead(head);
      items.shift();
      refused = outcome === 'refused';
      if (refused) {
        const next = items[0];
        // The next item holds the whole set including this edit: let it carry the moved names too.
        if (next) items[0] = { landmarks: next.landmarks, moved: [...new Set([...head.moved, ...next.moved])] };
      }
    }
    if (!refused) deps.onState({ kind: 'saved' });
    deps.onDrained();
  };

  const run = (): void => {
    if (running) return;
    running = drain().finally(() => {
      running = null;
      if (items.length > 0) run();
    });
  };

  return {
    push(item) {
      items.push(item);
      run();
    },
    async idle() {
      while (running) await running;
    },
    baseVersionId: () => base,
    setBaseVersionId(id) {
      base = id;
    },
  };
}
