/**
 * ONNX Runtime sessions for one model stage: CUDA first when asked for and available, CPU otherwise,
 * with the provider that actually ran found from ORT's profile of a warm-up run, and the graph's
 * input/output names and shapes checked against the manifest.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import './ort-telemetry';
import ort from 'onnxruntime-node';
import type { StageSpec } from '../../core/inference/index';
import { ModelError } from './errors';
import { defaultProviders, type ProviderName, type ProviderReport } from './providers';

export { defaultProviders, type ProviderName, type ProviderReport };

/** ONNX Runtime's name of each provider, as its profile reports where nodes ran. */
const ORT_NAME: Record<ProviderName, string> = {
  cuda: 'CUDAExecutionProvider',
  dml: 'DmlExecutionProvider',
  cpu: 'CPUExecutionProvider',
};

export interface StageSession {
  readonly session: ort.InferenceSession;
  readonly provider: ProviderReport;
  readonly createMs: number;
}

export const INTRA_OP_THREADS = 2;

// A CUDA provider that fails to load logs an error line on stderr before the exception we handle: keep
// ORT's own log to fatal errors; every failure reaches us as an exception with its message.
ort.env.logLevel = 'fatal';

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const [first = ''] = message.split('\n');
  return first.trim();
}

/** Refuses an output whose shape is not the manifest's (checked on the warm-up run and on every run). */
export function checkOutputDims(spec: StageSpec, dims: readonly number[]): void {
  if (dims.length !== 4 || dims.some((d, i) => d !== spec.output.shape[i])) {
    throw new ModelError(
      `${spec.file} returns ${spec.output.name} of shape [${dims.join(', ')}], the manifest declares [${spec.output.shape.join(', ')}]`,
    );
  }
}

/**
 * Runs the declared input shape once (zeros) and returns the providers in ORT's profile of that run (a GPU
 * session: where its nodes were placed), or the CPU when `profilePrefix` is null (a CPU session whose graph
 * does not declare fixed shapes: the run checks its output shape at start). A CPU session whose graph declares
 * the manifest's shapes has no warm-up run: its first analysis runs it (the app warms up with a synthetic
 * analysis at start), and every run checks the output shape.
 */
async function warmUpAndProfile(
  session: ort.InferenceSession,
  spec: StageSpec,
  profilePrefix: string | null,
): Promise<string[]> {
  const [n, c, h, w] = spec.input.shape;
  const input = new ort.Tensor('float32', new Float32Array(n * c * h * w), [...spec.input.shape]);
  const outputs = await session.run({ [spec.input.name]: input });
  const out = outputs[spec.output.name];
  if (profilePrefix !== null) session.endProfiling();
  checkOutputDims(spec, out?.dims ?? []);
  if (profilePrefix === null) return [ORT_NAME.cpu];
  const dir = path.dirname(profilePrefix);
  const base = path.basename(profilePrefix);
  const providers = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.startsWith(base))) {
    const full = path.join(dir, file);
    try {
      const events = JSON.parse(readFileSync(full, 'utf8')) as { args?: { provider?: string } }[];
      for (const e of events) if (e.args?.provider) providers.add(e.args.provider);
    } finally {
      rmSync(full, { force: true });
    }
  }
  return [...providers].sort();
}

/**
 * Refuses a graph whose input or output names, or fixed dimensions, differ from the manifest; returns whether
 * the graph declares both shapes in full (every dimension fixed), equal to the manifest's.
 */
function checkGraph(session: ort.InferenceSession, spec: StageSpec): boolean {
  const problems: string[] = [];
  let confirmed = true;
  if (!session.inputNames.includes(spec.input.name))
    problems.push(`has no input "${spec.input.name}" (inputs: ${session.inputNames.join(', ')})`);
  if (!session.outputNames.includes(spec.output.name))
    problems.push(`has no output "${spec.output.name}" (outputs: ${session.outputNames.join(', ')})`);
  const declared = (
    meta: readonly ort.InferenceSession.ValueMetadata[],
    name: string,
    shape: readonly number[],
    what: string,
  ): void => {
    const m = meta.find((x) => x.name === name);
    if (!m || !m.isTensor) {
      confirmed = false;
      return;
    }
    if (m.shape.length !== shape.length || m.shape.some((d) => typeof d !== 'number')) confirmed = false;
    // Dynamic dimensions come back as names (strings); only fixed ones can be compared.
    const mismatch = m.shape.length !== shape.length || m.shape.some((d, i) => typeof d === 'number' && d !== shape[i]);
    if (mismatch)
      problems.push(`declares ${what} "${name}" as [${m.shape.join(', ')}], the manifest says [${shape.join(', ')}]`);
  };
  declared(session.inputMetadata, spec.input.name, spec.input.shape, 'input');
  declared(session.outputMetadata, spec.output.name, spec.output.shape, 'output');
  if (problems.length > 0) throw new ModelError(`${spec.file} ${problems.join('; ')}`);
  return confirmed;
}

let sessionCounter = 0;

/**
 * Creates the session with the first provider that works, checks it against the manifest, warms it up (a GPU
 * session, or a graph without fixed shapes; see warmUpAndProfile).
 * A provider that fails to load (no GPU, no CUDA libraries) falls back to the next, with the reason kept.
 */
export async function createStageSession(
  modelBytes: Uint8Array,
  spec: StageSpec,
  requested: readonly ProviderName[] = defaultProviders(),
  /** Appended to the reason when CUDA fails (see cudaLibraryHint, computed where the module path is known). */
  cudaHint = '',
): Promise<StageSession> {
  const order = requested.includes('cpu') ? requested : [...requested, 'cpu' as const];
  const reasons: string[] = [];
  for (const provider of order) {
    const profilePrefix = path.join(os.tmpdir(), `cvm-ort-${process.pid}-${++sessionCounter}-`);
    const start = performance.now();
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelBytes, {
        executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
        // DirectML needs sequential execution without memory patterns.
        ...(provider === 'dml' ? { enableMemPattern: false, executionMode: 'sequential' as const } : {}),
        intraOpNumThreads: INTRA_OP_THREADS,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // ONNX Runtime's intra-op threads spin between runs by default. Between our short stage runs that only
        // burns the other core: measured (models/training/ensemble_cost.mts, SPIN=0/1), not spinning halves the
        // pipeline's CPU and cuts the per-file time by about a third on a quiet 2-core machine.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
        // The profile tells where a GPU session placed its nodes; a CPU-only session has nowhere else to put them.
        ...(provider === 'cpu' ? {} : { enableProfiling: true, profileFilePrefix: profilePrefix }),
      });
    } catch (error) {
      if (provider === 'cpu')
        throw new ModelError(`${spec.file} could not be loaded by ONNX Runtime: ${firstLine(error)}`);
      reasons.push(`${provider}: ${firstLine(error)}${provider === 'cuda' ? cudaHint : ''}`);
      continue;
    }
    try {
      const shapesDeclared = checkGraph(session, spec);
      const placement =
        provider === 'cpu' && shapesDeclared
          ? [ORT_NAME.cpu]
          : await warmUpAndProfile(session, spec, provider === 'cpu' ? null : profilePrefix);
      const createMs = performance.now() - start;
      const ranThere = placement.includes(ORT_NAME[provider]);
      if (!ranThere)
        reasons.push(`${provider}: the session loaded but ONNX Runtime placed no node on ${ORT_NAME[provider]}`);
      const used: ProviderName = ranThere ? provider : 'cpu';
      const fallbackReason = used === order[0] ? null : reasons.join('; ') || null;
      return { session, provider: { requested: order, used, placement, fallbackReason }, createMs };
    } catch (error) {
      await session.release();
      throw error;
    }
  }
  throw new ModelError(`${spec.file}: no execution provider could load it (${reasons.join('; ')})`);
}
