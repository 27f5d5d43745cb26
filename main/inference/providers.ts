/**
 * Which ONNX Runtime execution providers to ask for, and how a session reports the one it got. Kept apart
 * from sessions.ts, which loads onnxruntime-node: the engine on the main thread needs these names only, and
 * the native runtime (tens of megabytes, 0.1-0.3 s to load) is then loaded by the inference worker alone.
 */

export type ProviderName = 'cuda' | 'dml' | 'cpu';

export interface ProviderReport {
  /** What was asked for, in order of preference. */
  readonly requested: readonly ProviderName[];
  /** The provider the session was created with. */
  readonly used: ProviderName;
  /** ORT's execution providers that ran the warm-up nodes, from its profile (e.g. CPUExecutionProvider). */
  readonly placement: readonly string[];
  /** Why a faster provider was not used; null when the first choice ran. */
  readonly fallbackReason: string | null;
}

/**
 * Providers to try by default: CUDA on Linux and Windows x64 (onnxruntime-node's CUDA provider), DirectML on
 * Windows (bundled with onnxruntime-node there), then the CPU. CVM_DISABLE_GPU=1 asks for the CPU only.
 */
export function defaultProviders(): ProviderName[] {
  if (process.env.CVM_DISABLE_GPU === '1' || process.env.CVM_DISABLE_CUDA === '1') return ['cpu'];
  const providers: ProviderName[] = [];
  if ((process.platform === 'linux' || process.platform === 'win32') && process.arch === 'x64') providers.push('cuda');
  if (process.platform === 'win32') providers.push('dml');
  return [...providers, 'cpu'];
}
