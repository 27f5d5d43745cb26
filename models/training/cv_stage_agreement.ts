/**
 * Cross-validated stage agreement: stages from each image's held-out prediction (runs/cv/cv_predictions.json,
 * written by train.sh) against stages from its annotation, both through core/cvm with the default and the cvmt
 * thresholds at 0.1 mm/px. Run from the repository root:
 *   npx tsx models/training/cv_stage_agreement.ts [models/training/runs/cv/cv_predictions.json]
 */
import { readFileSync } from 'node:fs';
import { assess, THRESHOLD_PRESETS, type Thresholds } from '../../core/cvm/index';
import { imagePoint } from '../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkSet } from '../../core/landmarks/index';
import { agreesAllowingBorderline, stageAgreement, stageOutcome } from '../../core/metrics/index';

interface CvPrediction {
  id: string;
  pred: [number, number][];
  gt: [number, number][];
}

const file = process.argv[2] ?? 'models/training/runs/cv/cv_predictions.json';
const rows = JSON.parse(readFileSync(file, 'utf8')) as CvPrediction[];
const toSet = (points: [number, number][]): LandmarkSet =>
  Object.fromEntries(LANDMARK_NAMES.map((n, i) => [n, imagePoint(points[i]![0], points[i]![1])]));
const spacing = { rowMm: 0.1, colMm: 0.1 };

for (const [name, thresholds] of Object.entries(THRESHOLD_PRESETS) as [string, Thresholds][]) {
  const assessed = rows.map((r) => ({
    predicted: assess(toSet(r.pred), spacing, thresholds),
    truth: assess(toSet(r.gt), spacing, thresholds),
  }));
  const pairs = assessed.map((x) => ({ predicted: stageOutcome(x.predicted), truth: stageOutcome(x.truth) }));
  // A borderline prediction whose two candidates include the annotated stage told the user the truth was possible.
  const withBorderline = assessed.filter(
    (x) =>
      x.predicted.ok &&
      x.truth.ok &&
      x.truth.result.kind === 'stage' &&
      agreesAllowingBorderline(x.predicted.result, x.truth.result.stage),
  ).length;
  const a = stageAgreement(pairs);
  const staged = pairs.filter((p) => p.truth !== 'no-fit' && p.truth !== 'error');
  const agreeStaged = staged.filter((p) => p.predicted === p.truth).length;
  console.log(
    `${name}: exact ${a.exact}/${a.total} (${(100 * a.exactRate).toFixed(1)}%), within one stage ${a.withinOne}/${a.total}; ` +
      `on the ${staged.length} images whose annotation fits a stage: ${agreeStaged}/${staged.length} (${((100 * agreeStaged) / staged.length).toFixed(1)}%), ` +
      `${withBorderline}/${staged.length} counting a borderline result that names the annotated stage`,
  );
}
