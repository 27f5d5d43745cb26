/** What kind of radiograph an image is, from the radiograph-kind classifier's probabilities. */

export const RADIOGRAPH_KINDS = ['cephalogram', 'hand', 'other'] as const;
export type RadiographKind = (typeof RADIOGRAPH_KINDS)[number];

export interface RadiographClassification {
  /** The most probable kind, or 'other' when no kind reaches `minProbability`. */
  readonly kind: RadiographKind;
  readonly probabilities: Readonly<Record<RadiographKind, number>>;
  /** True when the top probability is below the model's threshold: the kind was not recognised with confidence. */
  readonly uncertain: boolean;
}

/** Softmax of the classifier's logits (order RADIOGRAPH_KINDS), then the decision rule. */
export function classifyLogits(logits: ArrayLike<number>, minProbability: number): RadiographClassification {
  if (logits.length !== RADIOGRAPH_KINDS.length)
    throw new Error(`expected ${RADIOGRAPH_KINDS.length} logits, got ${logits.length}`);
  const max = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  const p = e.map((v) => v / sum);
  const [cephalogram = Number.NaN, hand = Number.NaN, other = Number.NaN] = p; // three, checked above
  const probabilities = { cephalogram, hand, other };
  const best = RADIOGRAPH_KINDS.reduce((a, k) => (probabilities[k] > probabilities[a] ? k : a));
  const uncertain = probabilities[best] < minProbability;
  return { kind: uncertain ? 'other' : best, probabilities, uncertain };
}
