/** Handle colours: by the model's confidence for AI points, a distinct colour once a person moved the point. */
export type ConfidenceLevel = 'high' | 'medium' | 'low' | 'edited' | 'unknown';

/** Peak heatmap values; below LOW the inference engine flags the landmark as unreliable. */
export const CONFIDENCE_HIGH = 0.5;
export const CONFIDENCE_LOW = 0.25;

export function confidenceLevel(confidence: number | undefined, edited: boolean): ConfidenceLevel {
  if (edited) return 'edited';
  if (confidence === undefined) return 'unknown';
  if (confidence >= CONFIDENCE_HIGH) return 'high';
  if (confidence >= CONFIDENCE_LOW) return 'medium';
  return 'low';
}

export const LEVEL_COLOR: Record<ConfidenceLevel, string> = {
  high: '#3ecf8e',
  medium: '#f2b544',
  low: '#ff6b6b',
  edited: '#5ab0ff',
  unknown: '#d0d6de',
};
