/**
 * The whole-image models: radiograph-kind recognition and hand-wrist bone age (models/README.md,
 * "Whole-image models"). Finds and checks their folders (manifest, file inside the folder, sha256), runs
 * them in one worker thread (warm sessions, one request at a time, restarted after a crash; the command line's
 * analysis runs them in its inference engine's worker instead, see WholeImageEngineOptions), and turns
 * their outputs into decisions with core/boneage.
 *
 *   const models = openWholeImageModels(modelDirs(dataDir));
 *   const kind = await models.classifyRadiograph(greyImageOf(opened));   // {kind, probabilities, uncertain}
 *   const age = await models.estimateBoneAge(greyImageOf(opened), 'F');
 */
import './ort-telemetry'; // before its worker or the in-thread runner loads ONNX Runtime
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { OpenedImage } from '../../core/api/image';
import {
  classifyLogits,
  combineBoneAge,
  HAND_INPUT_SIZE,
  parseWholeImageManifest,
  squashNearest,
  WholeImageManifestError,
  type BoneAgeEstimate,
  type BoneAgeManifest,
  type GreyImage,
  type RadiographClassification,
  type RadiographKindManifest,
  type Sex,
  type WholeImageManifest,
} from '../../core/boneage/index';
import { InferenceError, ModelError } from './errors';
import type { ModelDir } from './registry';
import type { FromWholeImageWorker, ToWholeImageWorker, WholeImageFeed } from './whole-image-run';
import { modulePath, workerEntry } from '../workers/entry';
import { terminateWhenIdle } from './worker-stop';

export const BUNDLED_WHOLE_IMAGE_WORKER_FILE = 'whole-image-worker.cjs';

export interface VerifiedWholeImageModel<M extends WholeImageManifest = WholeImageManifest> {
  readonly dir: string;
  readonly manifest: M;
  readonly manifestSha256: string;
  readonly file: string;
  readonly source: 'app' | 'user';
}

/** Recorded with every result: which weights and processing produced it. */
export interface WholeImageModelRef {
  readonly id: string;
  readonly version: string;
  readonly manifestSha256: string;
  readonly sha256: string;
}

export const wholeImageModelRef = (m: VerifiedWholeImageModel): WholeImageModelRef => ({
  id: m.manifest.id,
  version: m.manifest.version,
  manifestSha256: m.manifestSha256,
  sha256: m.manifest.sha256,
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The whole-image `task` a folder's manifest declares; null when it holds no whole-image model. */
function wholeImageTaskOf(dir: string): WholeImageManifest['task'] | null {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) return null;
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { task?: unknown };
    return json.task === 'boneage' || json.task === 'radiograph-kind' ? json.task : null;
  } catch {
    return null;
  }
}

/** Whether a folder holds a whole-image model (its manifest declares a whole-image `task`). */
export function isWholeImageModelDir(dir: string): boolean {
  return wholeImageTaskOf(dir) !== null;
}

/** Reads and checks one whole-image model folder; throws ModelError naming the file and the problem. */
export function verifyWholeImageModel(dir: string, source: 'app' | 'user' = 'app'): VerifiedWholeImageModel {
  const manifestPath = path.join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new ModelError(`${manifestPath} does not exist`);
  const bytes = readFileSync(manifestPath);
  let manifest: WholeImageManifest;
  try {
    manifest = parseWholeImageManifest(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    if (error instanceof SyntaxError) throw new ModelError(`${manifestPath} is not valid JSON: ${error.message}`);
    if (error instanceof WholeImageManifestError) throw new ModelError(`${manifestPath}: ${error.message}`);
    throw error;
  }
  const file = path.resolve(dir, manifest.file);
  if (path.dirname(file) !== path.resolve(dir))
    throw new ModelError(`${manifestPath}: file "${manifest.file}" must be a file in the model folder`);
  if (!existsSync(file)) throw new ModelError(`${file} (model "${manifest.id}") is missing`);
  const actual = sha256(readFileSync(file));
  if (actual !== manifest.sha256)
    throw new ModelError(
      `${file} does not match its manifest: sha256 is ${actual}, manifest.json says ${manifest.sha256}`,
    );
  return { dir, manifest, manifestSha256: sha256(bytes), file, source };
}

export interface WholeImageListing {
  readonly models: readonly VerifiedWholeImageModel[];
  readonly refused: readonly { readonly dir: string; readonly reason: string }[];
}

/**
 * Every whole-image model under the folders (a user's model with the same id replaces a shipped one); with
 * `task`, only the models of that task are checked (hashed) and listed: `cvm analyze` needs the radiograph-kind
 * model (245 KB) and no longer reads and hashes the bone-age model (13 MB) at every start.
 */
export function findWholeImageModels(dirs: readonly ModelDir[], task?: WholeImageManifest['task']): WholeImageListing {
  const byId = new Map<string, VerifiedWholeImageModel>();
  const refused: { dir: string; reason: string }[] = [];
  for (const { dir, source } of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const folder = path.join(dir, name);
      if (!statSync(folder).isDirectory()) continue;
      const declared = wholeImageTaskOf(folder);
      if (declared === null || (task !== undefined && declared !== task)) continue;
      try {
        const m = verifyWholeImageModel(folder, source);
        byId.set(m.manifest.id, m);
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        refused.push({ dir: folder, reason: error.message });
      }
    }
  }
  return { models: [...byId.values()].sort((a, b) => a.manifest.id.localeCompare(b.manifest.id)), refused };
}

function pickTask<T extends WholeImageManifest['task']>(
  listing: WholeImageListing,
  task: T,
): VerifiedWholeImageModel<Extract<WholeImageManifest, { task: T }>> {
  const found = listing.models.find((m) => m.manifest.task === task);
  if (found) return found as VerifiedWholeImageModel<Extract<WholeImageManifest, { task: T }>>;
  const why = listing.refused.length > 0 ? ` Refused: ${listing.refused.map((r) => r.reason).join('; ')}` : '';
  throw new ModelError(`No usable ${task} model found in the models folders.${why}`);
}

/** The grey image the whole-image models read: the opened image under its default window. */
export function greyImageOf(opened: OpenedImage): GreyImage {
  const { width, height, data, windows } = opened.pixels;
  const w = windows[0];
  if (!w) throw new InferenceError(`${opened.info.fileName} has no display window`);
  return { width, height, data, window: { center: w.center, width: w.width } };
}

interface Job {
  readonly msg: Extract<ToWholeImageWorker, { type: 'run' }>;
  readonly resolve: (r: Extract<FromWholeImageWorker, { type: 'result' }>) => void;
  readonly reject: (e: Error) => void;
}

/** Where whole-image runs can go instead of a worker of their own: an InferenceEngine (runWholeImage). */
export interface WholeImageRunPort {
  runWholeImage(run: Extract<ToWholeImageWorker, { type: 'run' }>): Promise<FromWholeImageWorker>;
}

export interface WholeImageEngineOptions {
  /**
   * Run the sessions in this engine's worker instead of a worker thread of their own: for the command line's
   * analysis, whose landmark engine has ONNX Runtime loaded in its worker already. A thread of their own would
   * start a Node environment and a second ONNX Runtime module for a 100x100 model; running them in the main
   * thread (as before) loaded ONNX Runtime there and cost a cold `cvm analyze` of one file 30-40 ms.
   */
  readonly runner?: WholeImageRunPort;
}

/** One worker thread (or another engine's: see runner) for the whole-image models; one job at a time, in order. */
export class WholeImageEngine {
  private worker: Worker | null = null;
  private readonly queue: Job[] = [];
  private inFlight: Job | null = null;
  private nextId = 1;
  private closed = false;
  restarts = 0;
  private readonly runner: WholeImageRunPort | null;
  /** Model files whose checked bytes went to the runner with their first run. */
  private readonly bytesGiven = new Set<string>();

  constructor(options: WholeImageEngineOptions = {}) {
    this.runner = options.runner ?? null;
  }

  run(
    model: VerifiedWholeImageModel,
    feeds: readonly WholeImageFeed[],
  ): Promise<Extract<FromWholeImageWorker, { type: 'result' }>> {
    if (this.closed) return Promise.reject(new InferenceError('the whole-image engine is closed'));
    const msg = {
      type: 'run' as const,
      id: this.nextId++,
      file: model.file,
      sha256: model.manifest.sha256,
      feeds,
      output: model.manifest.output.name,
    };
    if (this.runner) {
      // The first run of a model hands over its bytes, checked here (this thread is idle while the runner's worker
      // analyses the image's landmarks): that worker then neither reads nor hashes the file, nor loads node:crypto.
      // A restarted worker gets none and reads and hashes the file itself.
      let given: Uint8Array | undefined;
      if (!this.bytesGiven.has(model.file)) {
        given = readFileSync(model.file);
        const actual = sha256(given);
        if (actual !== model.manifest.sha256)
          return Promise.reject(
            new ModelError(
              `${model.file} changed since it was checked: sha256 is ${actual}, manifest says ${model.manifest.sha256}`,
            ),
          );
        this.bytesGiven.add(model.file);
      }
      return this.runner.runWholeImage(given ? { ...msg, bytes: given } : msg).then((result) => {
        if (result.type === 'failed') throw new InferenceError(result.message);
        return result;
      });
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ msg, resolve, reject });
      this.pump();
    });
  }

  /** Test hook: the worker dies with an uncaught exception. */
  crashWorker(): void {
    this.worker?.postMessage({ type: 'crash' } satisfies ToWholeImageWorker);
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = new InferenceError('the whole-image engine was closed');
    for (const j of this.queue.splice(0)) j.reject(error);
    const running = this.inFlight;
    this.inFlight = null;
    running?.reject(error);
    const w = this.worker;
    this.worker = null;
    // A run in progress is let finish: terminating the worker mid-call aborts the process.
    if (w) await terminateWhenIdle(w, running !== null);
  }

  private spawn(): Worker {
    const entry = workerEntry({
      caller: modulePath(import.meta.url),
      source: 'whole-image-worker.ts',
      bundled: BUNDLED_WHOLE_IMAGE_WORKER_FILE,
      env: 'CVM_WHOLE_IMAGE_WORKER',
    });
    const worker = new Worker(entry.file, { eval: entry.eval });
    worker.unref();
    const died = (message: string): void => {
      if (this.worker !== worker) return;
      this.worker = null;
      const job = this.inFlight;
      this.inFlight = null;
      job?.reject(
        new InferenceError(`the whole-image worker crashed (${message}); it is restarted for the next request`),
      );
      if (!this.closed) {
        this.restarts++;
        this.pump();
      }
    };
    worker.on('message', (msg: FromWholeImageWorker) => {
      const job = this.inFlight;
      if (!job || job.msg.id !== msg.id) return;
      this.inFlight = null;
      if (msg.type === 'failed') job.reject(new InferenceError(msg.message));
      else job.resolve(msg);
      this.pump();
    });
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exited with code ${code}`));
    return worker;
  }

  private pump(): void {
    if (this.inFlight || this.closed || this.queue.length === 0) return;
    this.worker ??= this.spawn();
    this.worker.ref();
    const job = this.queue.shift();
    if (!job) return;
    this.inFlight = job;
    const origResolve = job.resolve;
    const origReject = job.reject;
    const idle = (): void => {
      if (!this.inFlight && this.queue.length === 0) this.worker?.unref();
    };
    this.inFlight = {
      msg: job.msg,
      resolve: (r) => {
        origResolve(r);
        idle();
      },
      reject: (e) => {
        origReject(e);
        idle();
      },
    };
    this.worker.postMessage(job.msg);
  }
}

export interface RadiographKindResult extends RadiographClassification {
  readonly model: WholeImageModelRef;
  readonly timings: { readonly prepareMs: number; readonly runMs: number };
}

export interface BoneAgeResult extends BoneAgeEstimate {
  readonly sex: Sex;
  readonly model: WholeImageModelRef;
  readonly timings: { readonly prepareMs: number; readonly runMs: number };
}

function checkDims(model: VerifiedWholeImageModel, dims: readonly number[]): void {
  const want = model.manifest.output.shape;
  if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
    throw new ModelError(
      `${model.file} returns ${model.manifest.output.name} of shape [${dims.join(', ')}], the manifest declares [${want.join(', ')}]`,
    );
  }
}

/** Runs the radiograph-kind classifier on an image. */
export async function classifyWith(
  engine: WholeImageEngine,
  model: VerifiedWholeImageModel<RadiographKindManifest>,
  image: GreyImage,
): Promise<RadiographKindResult> {
  const t0 = performance.now();
  const input = squashNearest(image, HAND_INPUT_SIZE);
  const prepareMs = performance.now() - t0;
  const r = await engine.run(model, [
    { name: model.manifest.image.name, shape: model.manifest.image.shape, data: input },
  ]);
  checkDims(model, r.dims);
  return {
    ...classifyLogits(r.data, model.manifest.minProbability),
    model: wholeImageModelRef(model),
    timings: { prepareMs, runMs: r.runMs },
  };
}

/** Runs the bone-age ensemble on a hand radiograph of a patient of the given sex. */
export async function boneAgeWith(
  engine: WholeImageEngine,
  model: VerifiedWholeImageModel<BoneAgeManifest>,
  image: GreyImage,
  sex: Sex,
): Promise<BoneAgeResult> {
  const t0 = performance.now();
  const input = squashNearest(image, HAND_INPUT_SIZE);
  const prepareMs = performance.now() - t0;
  const m = model.manifest;
  const r = await engine.run(model, [
    { name: m.image.name, shape: m.image.shape, data: input },
    { name: m.sexInput.name, shape: m.sexInput.shape, data: Float32Array.of(sex === 'M' ? 1 : 0) },
  ]);
  checkDims(model, r.dims);
  return {
    ...combineBoneAge(r.data, m.calibration, m.ageRangeMonths),
    sex,
    model: wholeImageModelRef(model),
    timings: { prepareMs, runMs: r.runMs },
  };
}

/** Both whole-image models with one engine: the small API the app, the CLI and the landmark gate use. */
export interface WholeImageModels {
  readonly kindModel: VerifiedWholeImageModel<RadiographKindManifest> | null;
  readonly boneAgeModel: VerifiedWholeImageModel<BoneAgeManifest> | null;
  /** Why a model is missing (empty when both were found). Each model is found and checked on first use. */
  readonly problems: readonly string[];
  classifyRadiograph(image: GreyImage): Promise<RadiographKindResult>;
  estimateBoneAge(image: GreyImage, sex: Sex): Promise<BoneAgeResult>;
  close(): Promise<void>;
}

export function openWholeImageModels(
  dirs: readonly ModelDir[],
  engineOptions: WholeImageEngineOptions = {},
): WholeImageModels {
  // Each task's model is found and checked on first use: a command that needs only the kind model never
  // reads the bone-age model's weights.
  const found = new Map<
    WholeImageManifest['task'],
    { model: VerifiedWholeImageModel | null; problem: string | null }
  >();
  const get = <T extends WholeImageManifest['task']>(
    task: T,
  ): VerifiedWholeImageModel<Extract<WholeImageManifest, { task: T }>> | null => {
    let entry = found.get(task);
    if (!entry) {
      const listing = findWholeImageModels(dirs, task);
      try {
        entry = { model: pickTask(listing, task), problem: null };
      } catch (error) {
        entry = { model: null, problem: (error as Error).message };
      }
      found.set(task, entry);
    }
    return entry.model as VerifiedWholeImageModel<Extract<WholeImageManifest, { task: T }>> | null;
  };
  const problems = (): string[] => {
    get('radiograph-kind');
    get('boneage');
    return (['radiograph-kind', 'boneage'] as const).flatMap((task) => found.get(task)?.problem ?? []);
  };
  const engine = new WholeImageEngine(engineOptions);
  return {
    get kindModel() {
      return get('radiograph-kind');
    },
    get boneAgeModel() {
      return get('boneage');
    },
    get problems() {
      return problems();
    },
    classifyRadiograph(image) {
      const kindModel = get('radiograph-kind');
      if (!kindModel) return Promise.reject(new ModelError(problems().join(' ')));
      return classifyWith(engine, kindModel, image);
    },
    estimateBoneAge(image, sex) {
      const boneAgeModel = get('boneage');
      if (!boneAgeModel) return Promise.reject(new ModelError(problems().join(' ')));
      return boneAgeWith(engine, boneAgeModel, image, sex);
    },
    close: () => engine.close(),
  };
}
