import { describe, expect, it } from 'vitest';
import { assess, CVM_STAGES, CVMT_THRESHOLDS, DEFAULT_THRESHOLDS } from '../../core/cvm/index';
import { syntheticLandmarks, type SyntheticBody } from './synthetic-landmarks';

const MM = { rowMm: 0.1, colMm: 0.1 };
const SHAPES: Record<string, SyntheticBody> = {
  trapezoid: { ratio: 1.5, heightRatio: 0.7, height: 11 },
  horizontal: { ratio: 1.3, heightRatio: 0.95, height: 11 },
  square: { ratio: 1.0, heightRatio: 0.97, height: 11 },
  vertical: { ratio: 0.8, heightRatio: 0.97, height: 11 },
};
const DEPTHS = Array.from({ length: 31 }, (_, i) => -0.05 + i * 0.01); // -5% to 25% of the chord
const OTHERS = [0.0, 0.069, 0.15];

/** Stage index along a sweep of one concavity, no-fits left out. */
function sweep(
  vertebra: 0 | 1 | 2,
  others: number,
  c3: SyntheticBody,
  c4: SyntheticBody,
  thresholds = DEFAULT_THRESHOLDS,
): number[] {
  return DEPTHS.flatMap((d) => {
    const concavity: [number, number, number] = [others, others, others];
    concavity[vertebra] = d;
    const a = assess(syntheticLandmarks({ concavity, C3: c3, C4: c4 }), MM, thresholds);
    if (!a.ok) throw new Error(a.error.message);
    return a.result.kind === 'stage' ? [CVM_STAGES.indexOf(a.result.stage)] : [];
  });
}

describe('deepening a concavity never lowers the stage', () => {
  for (const thresholds of [DEFAULT_THRESHOLDS, CVMT_THRESHOLDS]) {
    for (const vertebra of [0, 1, 2] as const) {
      it(`deepening the C${vertebra + 2} lower border, any bodies, other borders at 0-15% (${thresholds.name} preset)`, () => {
        let stagesSeen = 0;
        for (const c3 of Object.values(SHAPES)) {
          for (const c4 of Object.values(SHAPES)) {
            for (const others of OTHERS) {
              const stages = sweep(vertebra, others, c3, c4, thresholds);
              stagesSeen += stages.length;
              const lowered = stages.findIndex((s, i) => i > 0 && s < stages[i - 1]!);
              expect(lowered, `stage fell at step ${lowered} of ${JSON.stringify(stages)}`).toBe(-1);
            }
          }
        }
        expect(stagesSeen).toBeGreaterThan(100); // the sweeps did stage, not just fail to fit
      });
    }
  }
});
