/**
 * decodeImageFile in worker threads: a JPEG 2000 frame can take over a second, and the Electron main
 * process and the browser-mode server must stay responsive meanwhile. A pool of lanes, one worker each,
 * started on first use and kept warm: a request goes to the lane with the fewest requests waiting (the first
 * on a tie), so one-at-a-time use keeps to one worker and a batch that asks for several files at once decodes
 * them in parallel. Each lane answers in order; a worker that dies fails its pending requests with a clear
 * error and is started afresh for the next one.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { OpenedImage } from '../../core/api/image';
import type { ErrorCode } from '../../core/api/result';
import { modulePath, workerEntry } from '../workers/entry';
import { ImageDecodeError } from './errors';
import { DECODER_HEAP_BYTES } from './limits';
import type { DecodeOptions } from './index';

export interface DecodeRequest {
  readonly id: number;
  readonly fileName: string;
  readonly bytes: Uint8Array;
  readonly options?: DecodeOptions;
  /** Also write the derived pixel copy of this stored file (see pixel-cache.ts), in the worker. */
  readonly derived?: DerivedTarget;
  /** Only read the derived copy of `derived` (no bytes, no decoding); a missing or unusable copy is `not-found`. */
  readonly readDerivedOnly?: boolean;
}

export interface DerivedTarget {
  readonly dataDir: string;
  readonly sourceSha256: string;
}

export type DecodeReply = (
  | { readonly id: number; readonly ok: true; readonly image: OpenedImage }
  | {
      readonly id: number;
      readonly ok: false;
      readonly code: ErrorCode;
      readonly fileName: string;
      readonly problem: string;
    }
) & {
  /** The worker's heap after this request (JavaScript + WebAssembly); past DECODER_HEAP_BYTES it is replaced. */
  readonly heapBytes?: number;
};

type Pending = {
  resolve: (image: OpenedImage) => void;
  reject: (error: Error) => void;
  fileName: string;
  worker: Worker;
};

/** One decoder worker and its queue. */
class DecoderLane {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Workers replaced because their heap grew past the bound (WebAssembly memory never shrinks). */
  recycled = 0;

  constructor(private readonly maxHeapBytes = DECODER_HEAP_BYTES) {}

  /** Whether this lane's worker is running (started on its first request, kept warm). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Requests sent to this lane and not yet answered. */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * The derived pixel copy of a stored file, read (inflated, hash-checked) in the worker; null when there is none to
   * use.
   */
  readDerived(fileName: string, derived: DerivedTarget): Promise<OpenedImage | null> {
    return this.decode(fileName, new Uint8Array(0), undefined, derived, true).then(
      (image) => image,
      () => null,
    );
  }

  decode(
    fileName: string,
    bytes: Uint8Array,
    options?: DecodeOptions,
    derived?: DerivedTarget,
    readDerivedOnly = false,
  ): Promise<OpenedImage> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, fileName, worker });
      worker.ref(); // an idle worker must not keep the process alive, a busy one must
      // The caller keeps its bytes (e.g. to store the file): send a copy.
      worker.postMessage({
        id,
        fileName,
        bytes,
        options,
        ...(derived ? { derived } : {}),
        ...(readDerivedOnly ? { readDerivedOnly } : {}),
      } satisfies DecodeRequest);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    const retiring = [...this.retiring];
    this.retiring.clear();
    await Promise.all([...(w ? [w] : []), ...retiring].map((x) => x.terminate()));
  }

  private readonly retiring = new Set<Worker>();

  private retire(worker: Worker): void {
    this.retiring.add(worker);
    const check = (): void => {
      if ([...this.pending.values()].some((p) => p.worker === worker)) return;
      this.retiring.delete(worker);
      void worker.terminate();
    };
    worker.on('message', check);
    check();
  }

  private start(): Worker {
    const entry = workerEntry({
      caller: modulePath(import.meta.url),
      source: 'decode-worker.ts',
      bundled: 'decode-worker.cjs',
      env: 'CVM_DECODE_WORKER',
    });
    const worker = new Worker(entry.file, { eval: entry.eval });
    worker.on('message', (reply: DecodeReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ((reply.heapBytes ?? 0) > this.maxHeapBytes && this.worker === worker) {
        // New requests go to a fresh worker; this one finishes what it has, then ends and frees its heap.
        this.worker = null;
        this.recycled++;
        this.retire(worker);
      }
      if (reply.ok) p.resolve(reply.image);
      else p.reject(new ImageDecodeError(reply.code, reply.fileName, reply.problem));
    });
    const fail = (why: string): void => {
      if (this.worker === worker) this.worker = null;
      for (const [id, p] of this.pending) {
        if (p.worker !== worker) continue;
        p.reject(new ImageDecodeError('internal', p.fileName, `the image decoder stopped (${why}); try again`));
        this.pending.delete(id);
      }
    };
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }
}

export class DecoderPool {
  private readonly lanes: DecoderLane[];

  /** `size` workers at most (each started when first needed); 1 by default. */
  constructor(maxHeapBytes = DECODER_HEAP_BYTES, size = 1) {
    this.lanes = Array.from({ length: Math.max(1, Math.floor(size)) }, () => new DecoderLane(maxHeapBytes));
  }

  get size(): number {
    return this.lanes.length;
  }

  /** Workers running now: one as long as requests come one at a time, more when several were asked at once. */
  get running(): number {
    return this.lanes.filter((lane) => lane.running).length;
  }

  /** Workers replaced because their heap grew past the bound (WebAssembly memory never shrinks). */
  get recycled(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.recycled, 0);
  }

  readDerived(fileName: string, derived: DerivedTarget): Promise<OpenedImage | null> {
    return this.pick().readDerived(fileName, derived);
  }

  decode(fileName: string, bytes: Uint8Array, options?: DecodeOptions, derived?: DerivedTarget): Promise<OpenedImage> {
    return this.pick().decode(fileName, bytes, options, derived);
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.close()));
  }

  private pick(): DecoderLane {
    let best = this.lanes[0] as DecoderLane;
    for (const lane of this.lanes) if (lane.waiting < best.waiting) best = lane;
    return best;
  }
}

/**
 * How many decoder workers the services' pool may run: CVM_DECODE_WORKERS, else one per core up to 4. The
 * main thread mostly waits while a batch decodes (hashing, a database row per file), so on 2 cores both decode.
 */
export function decodeWorkerCount(): number {
  const asked = Number(process.env.CVM_DECODE_WORKERS);
  if (Number.isInteger(asked) && asked >= 1) return Math.min(asked, 16);
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

let shared: DecoderPool | null = null;

/** The process-wide decoder worker used by the services. */
export function decodeInWorker(
  fileName: string,
  bytes: Uint8Array,
  options?: DecodeOptions,
  derived?: DerivedTarget,
): Promise<OpenedImage> {
  shared ??= new DecoderPool(DECODER_HEAP_BYTES, decodeWorkerCount());
  return shared.decode(fileName, bytes, options, derived);
}

/** The derived pixel copy of a stored file, read in the process-wide decoder worker (off the main thread). */
export function readDerivedInWorker(fileName: string, derived: DerivedTarget): Promise<OpenedImage | null> {
  shared ??= new DecoderPool(DECODER_HEAP_BYTES, decodeWorkerCount());
  return shared.readDerived(fileName, derived);
}

/** The services' pool: its size and how many of its workers run (tests, the bench). */
export function sharedDecoderPool(): { readonly size: number; readonly running: number } {
  shared ??= new DecoderPool(DECODER_HEAP_BYTES, decodeWorkerCount());
  return shared;
}

export async function closeDecoderWorker(): Promise<void> {
  const pool = shared;
  shared = null;
  await pool?.close();
}
