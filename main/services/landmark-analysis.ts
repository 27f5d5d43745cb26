/**
 * The one path from decoded pixels to landmarks and a stage, shared by every front end: the app's analysis
 * of a stored image (./analysis.ts), `cvm analyze` and `cvm eval` on files (./file-analysis.ts). A hand-wrist
 * radiograph is refused (it gets a bone age, never vertebral landmarks) when the landmark model agrees that it
 * shows no C2-C4 column; the engine runs the two-stage pipeline and the staging model assesses the landmarks.
 * What the front ends add is only where the pixels come from, what is recorded, and how the result is shown.
 */
import type { AnalysisResult } from '../../core/api/analysis';
import type { OpenedImage } from '../../core/api/image';
import {
  analyzeOpened,
  NO_COLUMN_HINT,
  summarize,
  type AnalyzeOptions,
  type InferenceEngine,
} from '../inference/index';

/** What the radiograph-kind model said about an image (stored or just classified). */
export interface KindVerdict {
  readonly kind: 'cephalogram' | 'hand' | 'other';
  readonly probabilities: { readonly hand: number; readonly other: number };
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
  /**
   * Called when the landmark model overrules a hand or "other" verdict (see findsCephalogram), before the result
   * returns: the caller records the kind as a cephalogram the classifier was unsure of.
   */
  readonly onKindOverruled?: () => Promise<void>;
}

/**
 * The landmark model's second opinion on a hand or "other" verdict: a lateral cephalogram found with a plausible
 * C2-C4 column and not failed. The radiograph-kind model sees the whole image squashed to 100 x 100: version 1.0.0
 * (rotations up to 15° learnt) called some cephalograms tilted by 25° hands (P 0.60), 1.1.0 (up to 35°) still
 * called a tight crop around the neck a hand now and then, and every edge-enhanced (unsharp-masked) or inverted
 * cephalogram "other" (P 0.95), which would have refused its stage at approval. The landmark model refused all 11
 * RSNA hands and the synthetic and WG04 non-cephalograms as "not a lateral cephalogram" and looks for the column
 * under turns (docs/inference.md, "Tilted columns", "Device processing").
 */
export function findsCephalogram(result: AnalysisResult): boolean {
  const p = result.prediction;
  return p.recognition.lateralCephalogram && p.anatomy?.plausible === true && p.quality.verdict !== 'failed';
}

/** The result with the disagreement said where a user checks before approving (verdict "check"). */
function withOverruledKind(result: AnalysisResult, kind: KindVerdict): AnalysisResult {
  const q = result.prediction.quality;
  const took =
    kind.kind === 'hand'
      ? `a hand-wrist radiograph (P hand ${Math.round(kind.probabilities.hand * 100)}%)`
      : `neither a hand nor a cephalogram (P other ${Math.round(kind.probabilities.other * 100)}%)`;
  const prediction = {
    ...result.prediction,
    quality: {
      ...q,
      verdict: q.verdict === 'ok' ? ('uncertain' as const) : q.verdict,
      problems: [
        ...q.problems,
        `The radiograph-kind model took this image for ${took}, but the landmark model found a plausible C2-C4 column: check that it is a lateral cephalogram.`,
      ],
    },
  };
  return { ...result, prediction, ...summarize(prediction, result.assessment) };
}

/**
 * A cephalogram verdict this sure speaks against "not a lateral cephalogram": ISBI 105, a young child's film, got P
 * 0.99; the WG04 chest film RG1, which the kind model also calls a cephalogram, P 0.62.
 */
const CONFIDENT_CEPHALOGRAM = 0.9;

/**
 * The landmark model found no C2-C4 column on an image the radiograph-kind model is sure is a cephalogram (ISBI
 * 105): "not a lateral cephalogram … a hand, chest or panoramic radiograph gives this" contradicts what the user
 * sees. Said as what it is: no column found, on what the kind model takes for a cephalogram.
 */
function withColumnNotFound(result: AnalysisResult, kind: KindVerdict): AnalysisResult {
  const p = result.prediction;
  const cephalogram = Math.max(0, 1 - kind.probabilities.hand - kind.probabilities.other);
  if (p.recognition.lateralCephalogram || p.recognition.reason === null || cephalogram < CONFIDENT_CEPHALOGRAM)
    return result;
  const kindSaid = `The radiograph-kind model takes the image for a cephalogram (P ${Math.round(cephalogram * 100)}%): if it is one, its C2-C4 may be hidden, cut off, or unlike those the landmark model learnt from (a young child's, for one). No landmarks are drawn: place the 13 by hand.`;
  const reason = p.recognition.reason.includes(NO_COLUMN_HINT)
    ? p.recognition.reason.replace(NO_COLUMN_HINT, kindSaid)
    : `${p.recognition.reason} ${kindSaid}`;
  const prediction = {
    ...p,
    recognition: { ...p.recognition, reason, cephalogramByKind: cephalogram },
    quality: {
      ...p.quality,
      problems: p.quality.problems.map((problem) =>
        problem.startsWith('Not a lateral cephalogram: ') ? `No C2-C4 column found: ${reason}` : problem,
      ),
    },
  };
  return { ...result, prediction, ...summarize(prediction, result.assessment) };
}

/**
 * Refuses a hand, then landmarks, quality, orientation and the stage of one decoded image. A hand verdict is
 * refused only when the landmark model agrees (finds no plausible column, or cannot run); an "other" verdict
 * gives way to a plausible column too, and otherwise leaves the landmark model's own result (it says "not a
 * lateral cephalogram" where it finds no column). A running engine computes the landmarks while the kind model
 * looks at the image (on a cold start that hides the kind model's session and run); an engine still to be
 * started is started for a hand only to check it.
 */
export async function analyzeOpenedImage(
  engine: InferenceEngine | (() => Promise<InferenceEngine>),
  opened: OpenedImage,
  options: AnalyzeImageOptions = {},
): Promise<AnalysisResult> {
  const { kindOf, onKindOverruled, ...rest } = options;
  const running = typeof engine === 'function' ? null : analyzeOpened(engine, opened, rest);
  running?.catch(() => undefined); // awaited below; unseen only when the kind model itself fails
  const kind = kindOf ? await kindOf() : null;
  const landmarks = async (): Promise<AnalysisResult> =>
    running ?? analyzeOpened(typeof engine === 'function' ? await engine() : engine, opened, rest);
  if (!kind) return landmarks();
  if (kind.kind === 'cephalogram') return withColumnNotFound(await landmarks(), kind);
  if (kind.kind === 'other') {
    // The landmark model runs anyway: it refuses what shows no column itself, and its column outweighs the verdict.
    const result = await landmarks();
    if (!findsCephalogram(result)) return result;
    await onKindOverruled?.();
    return withOverruledKind(result, kind);
  }
  const hand = new HandRadiographError(opened.info.fileName, kind.probabilities.hand);
  let checked: AnalysisResult;
  try {
    checked = await landmarks();
  } catch {
    throw hand; // the landmark model cannot give a second opinion: the kind model's verdict stands
  }
  if (!findsCephalogram(checked)) throw hand;
  await onKindOverruled?.();
  return withOverruledKind(checked, kind);
}
