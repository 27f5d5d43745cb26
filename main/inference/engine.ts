/**
 * The inference engine on the main thread: one worker holding warm sessions, a queue of requests sent
 * one at a time, and recovery when the worker dies (the request in flight fails with a clear error, the
 * worker is restarted, the queue goes on).
 */
import { Worker } from 'node:worker_threads';
import type { ModelRef, Prediction, ProviderInfo } from '../../core/api/analysis';
import type { PixelSpacingMm } from '../../core/geometry/index';
import { InferenceError, ModelError } from './errors';
import type { PipelineImage } from './pipeline';
import type { FromWorker, ModelBytes, ToWorker } from './protocol';
import { takeCheckedBytes, type VerifiedModel } from './registry';
import { defaultProviders, type ProviderName, type ProviderReport } from './providers';
import { takePrestartedWorker } from './prestart';
import type { FromWholeImageWorker, ToWholeImageWorker } from './whole-image-run';
import { cudaLibraryHint, workerEntry } from './worker-entry';
import { terminateWhenIdle } from './worker-stop';

export type EngineEvent =
  | { readonly kind: 'worker-crashed'; readonly message: string }
  | { readonly kind: 'worker-restarted'; readonly createMs: number };

export interface EngineOptions {
  readonly model: VerifiedModel;
  readonly providers?: readonly ProviderName[];
  readonly onEvent?: (event: EngineEvent) => void;
}

interface AnalyzeJob {
  readonly kind: 'analyze';
  readonly id: number;
  readonly label: string;
  readonly image: PipelineImage;
  readonly spacing: PixelSpacingMm | null;
  readonly orientation: 'auto' | 'as-stored';
  readonly resolve: (p: Prediction) => void;
  readonly reject: (e: Error) => void;
  /** The pixels' copy whose buffer goes to the worker, made while the job waits (see prepareNext). */
  transferCopy: Uint16Array<ArrayBuffer> | Uint8Array<ArrayBuffer> | Float32Array<ArrayBuffer> | null;
}

interface WarmUpJob {
  readonly kind: 'warm-up';
  readonly id: number;
  readonly label: string;
  readonly resolve: (done: WarmUpReport) => void;
  readonly reject: (e: Error) => void;
}

interface WholeImageJob {
  readonly kind: 'whole-image';
  readonly id: number;
  readonly label: string;
  readonly run: Extract<ToWholeImageWorker, { type: 'run' }>;
  readonly resolve: (result: FromWholeImageWorker) => void;
  readonly reject: (e: Error) => void;
}

type Job = AnalyzeJob | WarmUpJob | WholeImageJob;

/** What a warm-up did: how long it took, and how many network runs (two per network). */
export interface WarmUpReport {
  readonly ms: number;
  readonly runs: number;
}

interface Ready {
  readonly provider: ProviderReport;
  readonly createMs: number;
}

export function modelRef(model: VerifiedModel): ModelRef {
  return {
    id: model.manifest.id,
    version: model.manifest.version,
    manifestSha256: model.manifestSha256,
    locateSha256: model.manifest.stages.locate.sha256,
    refineSha256: model.manifest.stages.refine.sha256,
  };
}

export class InferenceEngine {
  readonly model: VerifiedModel;
  readonly modelRef: ModelRef;
  private readonly providers: readonly ProviderName[];
  private readonly onEvent: (event: EngineEvent) => void;
  private worker: Worker | null = null;
  private starting: Promise<Ready> | null = null;
  private ready: Ready | null = null;
  private readonly queue: Job[] = [];
  private inFlight: Job | null = null;
  private nextId = 1;
  private closed = false;
  /** Worker restarts after a crash, for reports and tests. */
  restarts = 0;

  private constructor(options: EngineOptions) {
    this.model = options.model;
    this.modelRef = modelRef(options.model);
    this.providers = options.providers ?? defaultProviders();
    this.onEvent = options.onEvent ?? (() => {});
  }

  /** Starts the worker and creates both sessions; throws ModelError when the model is refused. */
  static async start(options: EngineOptions): Promise<InferenceEngine> {
    const engine = new InferenceEngine(options);
    try {
      await engine.ensureWorker();
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  /** Session creation time of the current worker, both stages, in ms. */
  get sessionCreateMs(): number {
    return this.ready?.createMs ?? Number.NaN;
  }

  get provider(): ProviderInfo {
    if (!this.ready) throw new Error('the inference engine is not ready');
    const p = this.ready.provider;
    return { used: p.used, requested: p.requested, placement: p.placement, fallbackReason: p.fallbackReason };
  }

  /**
   * Queues one image; resolves with the landmarks in image pixels. `orientation` 'as-stored': the image is looked at
   * only as it is stored (no search of other orientations and turns: one stage-1 run where it shows no column).
   */
  analyze(
    image: PipelineImage,
    spacing: PixelSpacingMm | null,
    label = 'image',
    orientation: 'auto' | 'as-stored' = 'auto',
  ): Promise<Prediction> {
    if (this.closed) return Promise.reject(new InferenceError('the inference engine is closed'));
    return new Promise<Prediction>((resolve, reject) => {
      this.queue.push({
        kind: 'analyze',
        id: this.nextId++,
        label,
        image,
        spacing,
        orientation,
        resolve,
        reject,
        transferCopy: null,
      });
      this.pump();
      this.prepareNext();
    });
  }

  /**
   * Runs every network twice on zeros, in turn with the analyses. ONNX Runtime's first two runs of a session are
   * several times slower than later ones: an app that warms up at start gives its user's first analysis the
   * steady speed.
   */
  warmUp(): Promise<WarmUpReport> {
    if (this.closed) return Promise.reject(new InferenceError('the inference engine is closed'));
    return new Promise<WarmUpReport>((resolve, reject) => {
      this.queue.push({ kind: 'warm-up', id: this.nextId++, label: 'the warm-up', resolve, reject });
      this.pump();
    });
  }

  /**
   * Runs a whole-image model (radiograph kind, bone age: whole-image-run.ts) in this engine's worker, after the
   * requests queued before it. The command line's analysis runs the kind model so (openWholeImageModels with
   * `runner`): ONNX Runtime then loads in one thread of the process, the one that has it loaded already.
   */
  runWholeImage(run: Extract<ToWholeImageWorker, { type: 'run' }>): Promise<FromWholeImageWorker> {
    if (this.closed) return Promise.reject(new InferenceError('the inference engine is closed'));
    return new Promise<FromWholeImageWorker>((resolve, reject) => {
      const label = `an image with ${run.file}`;
      this.queue.push({ kind: 'whole-image', id: this.nextId++, label, run, resolve, reject });
      this.pump();
    });
  }

  /** Test hook: makes the worker die with an uncaught exception. */
  crashWorker(): void {
    this.worker?.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = new InferenceError('the inference engine was closed');
    for (const job of this.queue.splice(0)) job.reject(error);
    const running = this.inFlight;
    this.inFlight = null;
    running?.reject(error);
    const worker = this.worker;
    this.worker = null;
    // A run or the sessions' creation in progress is let finish: terminating it mid-call aborts the process.
    if (worker) await terminateWhenIdle(worker, running !== null || this.starting !== null);
  }

  private ensureWorker(): Promise<Ready> {
    if (this.ready && this.worker) return Promise.resolve(this.ready);
    this.starting ??= this.spawn().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  /** The graphs' bytes, checked here and transferred to the worker, which then neither reads nor hashes them. */
  private checkedGraphs(): Extract<ToWorker, { type: 'init' }>['graphs'] {
    const { files, manifest } = this.model;
    const graph = (file: string, sha256: string): ModelBytes => takeCheckedBytes(file, sha256);
    const members = manifest.stages.refine.ensemble;
    return {
      locate: graph(files.locate, manifest.stages.locate.sha256),
      refine: graph(files.refine, manifest.stages.refine.sha256),
      refineMembers: files.refineMembers.map((file, i) => {
        const member = members[i];
        if (!member) throw new ModelError(`${file} is not a stage-2 ensemble member of ${manifest.id}`);
        return graph(file, member.sha256);
      }),
    };
  }

  private spawn(): Promise<Ready> {
    let graphs: Extract<ToWorker, { type: 'init' }>['graphs'];
    try {
      graphs = this.checkedGraphs();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // A worker started early by prestartInferenceWorker (./prestart.ts) has loaded ONNX Runtime meanwhile.
    const worker = takePrestartedWorker() ?? this.newWorker();
    this.worker = worker;
    return new Promise<Ready>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        if (this.worker === worker) this.worker = null;
        void worker.terminate();
        reject(error);
      };
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          settled = true;
          this.ready = { provider: msg.provider, createMs: msg.createMs.locate + msg.createMs.refine };
          resolve(this.ready);
        } else if (msg.type === 'init-failed') {
          fail(
            msg.modelInvalid
              ? new ModelError(msg.message)
              : new InferenceError(`the inference worker could not start: ${msg.message}`),
          );
        } else {
          this.settle(msg);
        }
      });
      worker.on('error', (error) => {
        if (!settled) fail(new InferenceError(`the inference worker failed to start: ${error.message}`));
        else this.crashed(worker, error.message);
      });
      worker.on('exit', (code) => {
        if (!settled) fail(new InferenceError(`the inference worker exited with code ${code} while starting`));
        else this.crashed(worker, `exited with code ${code}`);
      });
      const transfer = [graphs.locate, graphs.refine, ...graphs.refineMembers].map((g) => g.buffer);
      worker.postMessage(
        {
          type: 'init',
          manifest: this.model.manifest,
          decoding: this.model.decoding,
          graphs,
          providers: this.providers,
          cudaHint: this.providers.includes('cuda') ? cudaLibraryHint() : '',
        } satisfies ToWorker,
        transfer,
      );
    });
  }

  private newWorker(): Worker {
    const entry = workerEntry();
    return new Worker(entry.file, { eval: entry.eval });
  }

  private crashed(worker: Worker, message: string): void {
    if (this.worker !== worker) return; // an old worker, already replaced or terminated on purpose
    this.worker = null;
    this.ready = null;
    this.onEvent({ kind: 'worker-crashed', message });
    const job = this.inFlight;
    this.inFlight = null;
    job?.reject(
      new InferenceError(
        `The inference worker crashed while analysing ${job.label} (${message}); it is being restarted.`,
      ),
    );
    if (this.closed) return;
    this.restarts++;
    this.ensureWorker().then(
      (ready) => {
        this.onEvent({ kind: 'worker-restarted', createMs: ready.createMs });
        this.pump();
      },
      (error: Error) => {
        for (const j of this.queue.splice(0)) j.reject(error);
      },
    );
  }

  private settle(msg: Extract<FromWorker, { type: 'result' | 'warmed' | 'whole-image-result' | 'failed' }>): void {
    const job = this.inFlight;
    if (!job || job.id !== msg.id) return;
    this.inFlight = null;
    if (msg.type === 'failed') {
      job.reject(new InferenceError(`Analysis of ${job.label} failed: ${msg.message}`));
    } else if (msg.type === 'warmed') {
      if (job.kind === 'warm-up') job.resolve({ ms: msg.ms, runs: msg.runs });
    } else if (msg.type === 'whole-image-result') {
      if (job.kind === 'whole-image') job.resolve(msg.result);
    } else if (job.kind === 'analyze') {
      const o = msg.output;
      job.resolve({
        model: this.modelRef,
        provider: this.provider,
        imageWidth: job.image.width,
        imageHeight: job.image.height,
        landmarks: o.landmarks,
        roiScale: o.roiScale,
        quality: { verdict: o.quality.verdict, problems: o.quality.problems },
        recognition: o.recognition,
        orientation: o.orientation,
        anatomy: o.anatomy,
        timings: o.timings,
      });
    }
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0 || this.closed) return;
    if (!this.worker || !this.ready) {
      if (!this.starting) {
        this.ensureWorker().then(
          () => this.pump(),
          (error: Error) => {
            for (const j of this.queue.splice(0)) j.reject(error);
          },
        );
      }
      return;
    }
    const job = this.queue.shift();
    if (!job) return;
    this.inFlight = job;
    if (job.kind !== 'analyze') {
      this.worker.postMessage(
        (job.kind === 'warm-up'
          ? { type: 'warm-up', id: job.id }
          : { type: 'whole-image', id: job.id, run: job.run }) satisfies ToWorker,
      );
      this.prepareNext();
      return;
    }
    const data = job.transferCopy ?? job.image.data.slice();
    job.transferCopy = null;
    this.worker.postMessage(
      {
        type: 'analyze',
        id: job.id,
        image: { ...job.image, data },
        spacing: job.spacing,
        ...(job.orientation === 'as-stored' ? { orientation: job.orientation } : {}),
      } satisfies ToWorker,
      [data.buffer],
    );
    this.prepareNext();
  }

  /**
   * The pixels go to the worker as a copy whose buffer is transferred: the worker then has them without
   * deserialising a clone (9 MB of fresh memory in its thread, which it would wait on), and the caller keeps its
   * own array (e.g. in the pixel cache). The next job's copy is made while it waits for the worker (starting, or
   * busy with the job before), so that sending it costs nothing then; only that one job holds a copy.
   */
  private prepareNext(): void {
    const next = this.queue[0];
    if (next?.kind === 'analyze' && !next.transferCopy && !this.closed) next.transferCopy = next.image.data.slice();
  }
}
