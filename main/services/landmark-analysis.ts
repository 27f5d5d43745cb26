/**
 * The one path from decoded pixels to landmarks and a stage, shared by every front end: the app's analysis
 * of a stored image (./analysis.ts), `cvm analyze` and `cvm eval` on files (./file-analysis.ts). A hand-wrist
 * radiograph is refused first (it gets a bone age, never vertebral landmarks); then the engine runs the
 * two-stage pipeline and the staging model assesses the landmarks. What the front ends add is only where the
 * pixels come from, what is recorded, and how the result is shown.
 */
import type { AnalysisResult } from '../../core/api/analysis';
import type { OpenedImage } from '../../core/api/image';
import { analyzeOpened, type AnalyzeOptions, type InferenceEngine } from '../inference/index';

/** What the radiograph-kind model said about an image (stored or just classified). */
export interface KindVerdict {
  readonly kind: 'cephalogram' | 'hand' | 'other';
  readonly probabilities: { readonly hand: number };
}

/** A hand-wrist radiograph sent to the landmark model: refused, with the kind model's probability. */
export class HandRadiographError extends Error {
  readonly code = 'unsupported';
  constructor(
    readonly fileName: string,
    readonly handProbability: number,
  ) {
    super(
      `Not a lateral cephalogram: ${fileName} is a hand-wrist radiograph (P hand ${Math.round(handProbability * 100)}%): it gets a bone age, not vertebral landmarks.`,
    );
  }
}

export interface AnalyzeImageOptions extends AnalyzeOptions {
  /** The image's kind; null or absent when no kind model is installed (nothing is refused then). */
  readonly kindOf?: () => Promise<KindVerdict | null>;
}

/**
 * Refuses a hand, then landmarks, quality, orientation and the stage of one decoded image. An engine still to
 * be started is asked for only after the kind check, so a hand is refused as such even when the landmark model
 * cannot start. A running engine computes the landmarks while the kind model looks at the image (on a cold
 * start that hides the kind model's session and run); for a hand they are dropped unseen.
 */
export async function analyzeOpenedImage(
  engine: InferenceEngine | (() => Promise<InferenceEngine>),
  opened: OpenedImage,
  options: AnalyzeImageOptions = {},
): Promise<AnalysisResult> {
  const { kindOf, ...rest } = options;
  const refuseHand = (kind: KindVerdict | null): void => {
    if (kind?.kind === 'hand') throw new HandRadiographError(opened.info.fileName, kind.probabilities.hand);
  };
  if (typeof engine === 'function') {
    refuseHand(kindOf ? await kindOf() : null);
    return analyzeOpened(await engine(), opened, rest);
  }
  const landmarks = analyzeOpened(engine, opened, rest);
  try {
    refuseHand(kindOf ? await kindOf() : null);
  } catch (error) {
    landmarks.catch(() => undefined);
    throw error;
  }
  return landmarks;
}
