/**
 * Runs many analyses one after another with progress (count, current item, time left) and cancel.
 * Shared by the app's analyzeBatch and `cvm analyze` on many files.
 */

export interface BatchProgressInfo {
  readonly done: number;
  readonly total: number;
  readonly failed: number;
  readonly current: string | null;
  /** Mean time per finished item times the items left; null before the first one ends. */
  readonly etaMs: number | null;
  readonly elapsedMs: number;
}

export type BatchItemResult<R> =
  | { readonly label: string; readonly ok: true; readonly value: R }
  | { readonly label: string; readonly ok: false; readonly error: Error };

export interface BatchOutcome<R> {
  readonly items: readonly BatchItemResult<R>[];
  readonly cancelled: boolean;
  readonly elapsedMs: number;
}

export function etaMs(done: number, total: number, elapsedMs: number): number | null {
  return done === 0 ? null : (elapsedMs / done) * (total - done);
}

/**
 * Items are processed in order; a failing item is recorded and the batch goes on; once `signal` aborts,
 * the item in progress finishes and no further item starts.
 */
export async function runBatch<T, R>(
  items: readonly T[],
  labelOf: (item: T) => string,
  work: (item: T) => Promise<R>,
  options: {
    readonly signal?: AbortSignal;
    readonly onProgress?: (p: BatchProgressInfo) => void;
    readonly onItem?: (r: BatchItemResult<R>) => void;
  } = {},
): Promise<BatchOutcome<R>> {
  const start = performance.now();
  const results: BatchItemResult<R>[] = [];
  let failed = 0;
  const report = (current: string | null): void => {
    const elapsedMs = performance.now() - start;
    options.onProgress?.({
      done: results.length,
      total: items.length,
      failed,
      current,
      etaMs: etaMs(results.length, items.length, elapsedMs),
      elapsedMs,
    });
  };
  for (const item of items) {
    // Let the event loop run between items: items that fail at once (unknown ids) would otherwise chain
    // microtasks and block a server for the whole batch. Not before the first: the turn would run whatever the
    // loop has queued (after a cold start's decode, V8's collection of the decoder's garbage: 8 ms measured)
    // before the first image goes to the worker, instead of while the worker analyses it.
    if (results.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    if (options.signal?.aborted) break;
    const label = labelOf(item);
    report(label);
    let result: BatchItemResult<R>;
    try {
      result = { label, ok: true, value: await work(item) };
    } catch (error) {
      failed++;
      result = { label, ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
    results.push(result);
    options.onItem?.(result);
  }
  report(null);
  return { items: results, cancelled: results.length < items.length, elapsedMs: performance.now() - start };
}
