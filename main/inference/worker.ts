/**
 * The inference worker: holds the two ONNX sessions (created once, kept warm) and runs the pipeline for
 * each request, so session.run() never blocks the main thread. Entry file of a worker thread; packaged
 * as its own bundle (see docs/inference.md).
 */
import { parentPort } from 'node:worker_threads';
import { startupGate } from './worker-start-claim'; // first: before any native module loads
import './ort-telemetry';
import ort from 'onnxruntime-node';
import { refineMembers, type StageSpec } from '../../core/inference/index';
import { ModelError } from './errors';
import { runPipeline, type StageRunner } from './pipeline';
import type { FromWorker, ToWorker } from './protocol';
import { initOrtNow } from './ort-init';
import { leaveNativeStart } from './startup-gate';
import { checkOutputDims, createStageSession, type ProviderName, type StageSession } from './sessions';
import { wholeImageRunner, type WholeImageRunner } from './whole-image-run';

if (!parentPort) throw new Error('main/inference/worker.ts must run as a worker thread');
const port = parentPort;
// ONNX Runtime's native start-up while the main thread still checks the model (ort-init.ts; sessions.ts has
// set its log level).
initOrtNow();
if (startupGate) leaveNativeStart(startupGate);

interface Loaded {
  readonly manifest: Extract<ToWorker, { type: 'init' }>['manifest'];
  readonly decoding: Extract<ToWorker, { type: 'init' }>['decoding'];
  readonly locate: StageRunner;
  readonly refine: StageRunner;
  /** The ensemble's further stage-2 networks (stages.refine.ensemble). */
  readonly refineMembers: readonly StageRunner[];
  /** Every network with the number of input values it takes, for the warm-up. */
  readonly networks: ReadonlyArray<{ readonly run: StageRunner; readonly inputSize: number }>;
}

let loaded: Loaded | null = null;
/** The whole-image models' sessions, created on their first run (InferenceEngine.runWholeImage). */
let wholeImage: WholeImageRunner | null = null;

function runner(stage: StageSession, spec: StageSpec): StageRunner {
  return async (input) => {
    const tensor = new ort.Tensor('float32', input, [...spec.input.shape]);
    const outputs = await stage.session.run({ [spec.input.name]: tensor });
    const out = outputs[spec.output.name];
    if (!out || !(out.data instanceof Float32Array))
      throw new Error(`${spec.file} returned no float32 "${spec.output.name}"`);
    checkOutputDims(spec, out.dims);
    return out.data;
  };
}

async function init(msg: Extract<ToWorker, { type: 'init' }>): Promise<FromWorker> {
  try {
    const { locate: locateSpec, refine: refineSpec } = msg.manifest.stages;
    const providers = msg.providers as ProviderName[];
    const locate = await createStageSession(msg.graphs.locate, locateSpec, providers, msg.cudaHint);
    // The second stage uses what the first one could: no second round of failing CUDA loads.
    const refine = await createStageSession(msg.graphs.refine, refineSpec, [locate.provider.used]);
    const inputSize = (spec: StageSpec): number => spec.input.shape.reduce((a, b) => a * b, 1);
    const locateRun = runner(locate, locateSpec);
    const refineRun = runner(refine, refineSpec);
    const networks = [
      { run: locateRun, inputSize: inputSize(locateSpec) },
      { run: refineRun, inputSize: inputSize(refineSpec) },
    ];
    const members: StageRunner[] = [];
    let membersMs = 0;
    for (const [i, spec] of refineMembers(refineSpec).slice(1).entries()) {
      const graph = msg.graphs.refineMembers[i];
      if (graph === undefined) throw new ModelError(`stage-2 ensemble member ${i + 1} (${spec.file}) has no file`);
      const s = await createStageSession(graph, spec, [locate.provider.used]);
      membersMs += s.createMs;
      const run = runner(s, spec);
      members.push(run);
      networks.push({ run, inputSize: inputSize(spec) });
    }
    loaded = {
      manifest: msg.manifest,
      decoding: msg.decoding,
      locate: locateRun,
      refine: refineRun,
      refineMembers: members,
      networks,
    };
    return {
      type: 'ready',
      provider: locate.provider,
      createMs: { locate: locate.createMs, refine: refine.createMs + membersMs },
    };
  } catch (error) {
    return {
      type: 'init-failed',
      message: error instanceof Error ? error.message : String(error),
      modelInvalid: error instanceof ModelError,
    };
  }
}

async function analyze(msg: Extract<ToWorker, { type: 'analyze' }>): Promise<FromWorker> {
  if (!loaded) return { type: 'failed', id: msg.id, message: 'the model is not loaded' };
  try {
    const output = await runPipeline(loaded.manifest, loaded.locate, loaded.refine, msg.image, msg.spacing, {
      minConfidence: loaded.manifest.minConfidence ?? undefined,
      decoding: loaded.decoding,
      refineMembers: loaded.refineMembers,
      ...(msg.orientation ? { orientation: msg.orientation } : {}),
    });
    return { type: 'result', id: msg.id, output };
  } catch (error) {
    return { type: 'failed', id: msg.id, message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * ONNX Runtime's first two runs of a session take several times as long as the later ones (it plans and
 * allocates its working memory on them): each network run twice on zeros, so that the first analysis after it
 * runs at the steady speed.
 */
async function warmUp(msg: Extract<ToWorker, { type: 'warm-up' }>): Promise<FromWorker> {
  if (!loaded) return { type: 'failed', id: msg.id, message: 'the model is not loaded' };
  const started = performance.now();
  try {
    let runs = 0;
    for (let round = 0; round < 2; round++) {
      for (const network of loaded.networks) {
        await network.run(new Float32Array(network.inputSize));
        runs++;
      }
    }
    return { type: 'warmed', id: msg.id, ms: performance.now() - started, runs };
  } catch (error) {
    return { type: 'failed', id: msg.id, message: error instanceof Error ? error.message : String(error) };
  }
}

async function handle(msg: Exclude<ToWorker, { type: 'crash' }>): Promise<FromWorker> {
  switch (msg.type) {
    case 'init':
      return init(msg);
    case 'warm-up':
      return warmUp(msg);
    case 'whole-image':
      wholeImage ??= wholeImageRunner(ort);
      return { type: 'whole-image-result', id: msg.id, result: await wholeImage.run(msg.run) };
    case 'analyze':
      return analyze(msg);
  }
}

// Requests are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  if (msg.type === 'crash') {
    setImmediate(() => {
      throw new Error('inference worker crash requested');
    });
    return;
  }
  queue = queue.then(async () => {
    port.postMessage(await handle(msg));
  });
});
