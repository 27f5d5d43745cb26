/**
 * Store work off the calling thread: a worker (writer-worker.ts) with its own connection to the same database
 * file. The `write` one records imported files, model runs and radiograph kinds, so the Electron main thread
 * keeps answering the UI while each commit waits for the disk; the `read` one (a read-only connection) answers
 * the worklist, whose filtered and searched pages take 20-120 ms of CPU at 100,000 studies
 * (docs/persistence.md). Other reads stay on the caller's connection; every connection sees a write once its
 * promise has resolved (WAL: a new read transaction sees all commits). Writes from several connections are
 * serialised by SQLite (IMMEDIATE transactions, busy timeout).
 */
import { Worker } from 'node:worker_threads';
import type { RadiographKindView } from '../../core/api/boneage';
import type { ErrorCode } from '../../core/api/result';
import type { ListStudiesRequest, ListStudiesResponse, StageSummary } from '../../core/api/studies';
import { modulePath, workerEntry } from '../workers/entry';
import { StoreError, type StoreProblem } from './errors';
import type { NewImage } from './images';
import type { ModelRunInput } from './versions';

export type StoreWorkerRole = 'write' | 'read';

export interface WriterStart {
  readonly dataDir: string;
  readonly role: StoreWorkerRole;
}

export type InsertedImage = { imageId: number; studyId: number; duplicate: boolean };
export type RecordedRun = { runId: number; versionId: number; version: number; stage: StageSummary };

export type WriterRequest =
  | { readonly id: number; readonly method: 'insertImage'; readonly input: NewImage }
  | {
      readonly id: number;
      readonly method: 'recordModelRun';
      readonly imageId: number;
      readonly run: ModelRunInput;
      readonly author: string;
    }
  | { readonly id: number; readonly method: 'writeKind'; readonly imageId: number; readonly kind: RadiographKindView }
  | { readonly id: number; readonly method: 'listStudies'; readonly request: ListStudiesRequest };

export type WriterReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | {
      readonly id: number;
      readonly ok: false;
      readonly code: ErrorCode;
      readonly problem: StoreProblem | null;
      readonly message: string;
    };

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class StoreWorker {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly dataDir: string,
    private readonly file: string,
    private readonly role: StoreWorkerRole,
  ) {}

  /** Starts the worker now (it opens its connection while the caller does other work). */
  start(): void {
    if (!this.worker && !this.closed) this.worker = this.spawn();
  }

  insertImage(input: NewImage): Promise<InsertedImage> {
    return this.call({ method: 'insertImage', input }) as Promise<InsertedImage>;
  }

  recordModelRun(imageId: number, run: ModelRunInput, author: string): Promise<RecordedRun> {
    return this.call({ method: 'recordModelRun', imageId, run, author }) as Promise<RecordedRun>;
  }

  writeKind(imageId: number, kind: RadiographKindView): Promise<void> {
    return this.call({ method: 'writeKind', imageId, kind }) as Promise<void>;
  }

  listStudies(request: ListStudiesRequest): Promise<ListStudiesResponse> {
    return this.call({ method: 'listStudies', request }) as Promise<ListStudiesResponse>;
  }

  /** Stops the worker; writes still waiting fail with a clear error. */
  close(): void {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) void worker.terminate();
    this.failAll('the store was closed');
  }

  /** "Could not write to <file>" or "Could not read <file>", as the store's own errors say. */
  private get failure(): string {
    return `Could not ${this.role === 'write' ? 'write to' : 'read'} ${this.file}`;
  }

  private call(request: DistributiveOmit<WriterRequest, 'id'>): Promise<unknown> {
    if (this.closed) return Promise.reject(new StoreError('storage', 'io', `${this.failure}: the store was closed.`));
    this.start();
    const worker = this.worker;
    if (!worker) throw new Error('StoreWorker.call: start() left no worker although the store is open');
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...request, id } as WriterRequest);
    });
  }

  private spawn(): Worker {
    const entry = workerEntry({
      caller: modulePath(import.meta.url),
      source: 'writer-worker.ts',
      bundled: 'store-writer-worker.cjs',
      env: 'CVM_STORE_WRITER_WORKER',
    });
    const worker = new Worker(entry.file, {
      eval: entry.eval,
      workerData: { dataDir: this.dataDir, role: this.role } satisfies WriterStart,
    });
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) p.resolve(reply.value);
      else if (reply.problem) p.reject(new StoreError(reply.code, reply.problem, reply.message));
      else p.reject(new Error(reply.message));
    });
    const fail = (why: string): void => {
      if (this.worker === worker) this.worker = null;
      this.failAll(`the store's ${this.role === 'write' ? 'writer' : 'reader'} stopped (${why}); try again`);
    };
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    return worker;
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      p.reject(new StoreError('storage', 'io', `${this.failure}: ${why}.`));
      this.pending.delete(id);
    }
  }
}
