/**
 * Fits the staging model to the clinicians' stages of cvm900 and writes its parameter file and manifest.
 * Deterministic: the same data file gives the same bytes. Run from the repository root:
 *
 * npx tsx models/training/staging/fit.ts [--data ../shared/data/cvm900/cvm900_train.json] [--dump-features
 * <file.json>]
 *
 * (about 2 minutes on an idle core: 5 repetitions of nested 5-fold cross-validation, twice, and the final fit)
 *
 * Writes core/cvm/params/cvm-stage-v1.json (the parameters, bundled into the app by core/cvm) and
 * models/staging/cvm-stage-v1/manifest.json (data file and its sha256, recipe, features, cross-validated
 * figures, sha256 of the parameter file). --dump-features writes every spine's features (from the same TypeScript
 * function the app uses) with its stage and fold, for compare_candidates.py.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DEFAULT_FIT_OPTIONS,
  featuresOf,
  fitStagingModel,
  repeatedCrossValidation,
  stratifiedFolds,
} from '../../../core/cvm/fit';
import { STAGING_FEATURES } from '../../../core/cvm/features';
import { measure } from '../../../core/cvm/measure';
import { stage } from '../../../core/cvm/stage';
import { CVM_STAGES } from '../../../core/cvm/types';
import { readAnnotationFile } from '../../../main/cli/commands/stage';
import { readClinicianStagedFile } from '../../../main/cli/clinician-stages';
import { STAGE_MODEL_ID } from '../../../core/cvm/model';
import { stageManifestPath } from '../../../main/cli/stage-model-files';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Where the parameters go: core/cvm bundles them into the app; the manifest names this path from the root. */
const STAGE_PARAMS_PATH = path.join(REPO, 'core', 'cvm', 'params', `${STAGE_MODEL_ID}.json`);

const { values } = parseArgs({
  options: { data: { type: 'string' }, 'dump-features': { type: 'string' } },
});
const dataPath = path.resolve(values.data ?? '../shared/data/cvm900/cvm900_train.json');
const data = readClinicianStagedFile(dataPath);
const options = {
  ...DEFAULT_FIT_OPTIONS,
  training: { data: data.fileName, dataSha256: data.sha256, spines: data.spines.length },
};
console.log(
  `${data.fileName}: ${data.spines.length} spines measured, ${data.unmeasurable.length} not measurable` +
    `${data.unmeasurable.map((u) => ` (${u.id}: ${u.error.message})`).join('')}`,
);

if (values['dump-features']) {
  const folds = stratifiedFolds(
    data.spines.map((s) => s.label),
    5,
    options.seed,
  );
  writeFileSync(
    values['dump-features'],
    JSON.stringify({
      features: STAGING_FEATURES.map((f) => f.id),
      spines: data.spines.map((s, i) => ({
        id: s.id,
        stage: s.label + 1,
        fold: folds[i],
        x: Array.from(featuresOf(s)),
      })),
    }),
  );
  console.log(`features written to ${values['dump-features']}`);
}

const t0 = performance.now();
const progress = (what: string) => (n: number) => console.log(`  ${what}: repetition ${n} of 5 done`);
const cv = repeatedCrossValidation(data.spines, data.unmeasurable.length, 5, 5, options, progress('cross-validation'));
// The same folds with landmarks as uncertain as the landmark model's (default error beyond the annotators').
const u = options.uncertainty;
const modelRelative = Math.sqrt(u.defaultModelSigmaMm ** 2 - u.annotatorSigmaMm ** 2) / u.referenceChordMm;
const cvModelError = repeatedCrossValidation(
  data.spines,
  data.unmeasurable.length,
  5,
  5,
  { ...options, relativeSigma: modelRelative },
  progress('with landmark model error'),
);
const fit = fitStagingModel(data.spines, options);
console.log(
  `fitted in ${((performance.now() - t0) / 1000).toFixed(1)} s: lambda ${fit.lambda}, temperature ${fit.temperature.toFixed(4)}`,
);

// The textbook rules on the same spines, for comparison (spacing unknown: concavity by its share of the chord).
const file = readAnnotationFile(dataPath);
const truth = JSON.parse(readFileSync(dataPath, 'utf8')).clinician_stage as Record<string, string>;
let textbookExact = 0,
  textbookStaged = 0,
  textbookWithinOne = 0,
  textbookTotal = 0;
for (const img of file.images) {
  const t = truth[img.id];
  if (t === undefined) continue;
  textbookTotal++;
  const m = measure(img.landmarks, file.spacing);
  const result = m.ok ? stage(m.value) : null;
  if (result === null || result.kind !== 'stage') continue;
  textbookStaged++;
  if (result.stage === t) textbookExact++;
  if (Math.abs(CVM_STAGES.indexOf(result.stage) - CVM_STAGES.indexOf(t as never)) <= 1) textbookWithinOne++;
}
const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;

const paramsText = `${JSON.stringify(fit.params, null, 2)}\n`;
mkdirSync(path.dirname(STAGE_PARAMS_PATH), { recursive: true });
writeFileSync(STAGE_PARAMS_PATH, paramsText);
const manifest = {
  id: fit.params.id,
  version: fit.params.version,
  kind: 'cvm-staging-model',
  createdAt: new Date().toISOString(),
  params: {
    file: path.relative(REPO, STAGE_PARAMS_PATH).split(path.sep).join('/'),
    sha256: createHash('sha256').update(paramsText).digest('hex'),
  },
  model:
    'multinomial logistic regression (softmax over CS1-CS6) on standardised features, L2 penalty on the weights, temperature-scaled',
  features: STAGING_FEATURES.map((f) => ({ id: f.id, label: f.label })),
  training: {
    data: data.fileName,
    dataSha256: data.sha256,
    source:
      "CVM-900 training split (ybupengwang/LM-PCVMNet icvmlabel.zip), landmarks and clinicians' stages; the file is read from ../shared/data, never copied",
    spines: data.spines.length,
    unmeasurable: data.unmeasurable.map((x) => ({ id: x.id, stage: x.stage, error: x.error.message })),
    recipe: 'npx tsx models/training/staging/fit.ts --data ../shared/data/cvm900/cvm900_train.json',
    options: {
      lambdas: options.lambdas,
      innerFolds: options.innerFolds,
      seed: options.seed,
      fitTemperature: options.fitTemperature,
    },
    chosen: {
      lambda: fit.lambda,
      temperature: r4(fit.temperature),
      innerLogLoss: fit.lambdaLogLoss.map((x) => ({ lambda: x.lambda, logLoss: r4(x.logLoss) })),
    },
  },
  crossValidated: cv,
  crossValidatedWithLandmarkModelError: { relativeSigma: r4(modelRelative), ...cvModelError },
  textbookRulesOnTheSameSpines: {
    preset: 'default (spacing unknown)',
    staged: r4(textbookStaged / textbookTotal),
    exact_allSpines: r4(textbookExact / textbookTotal),
    withinOne_allSpines: r4(textbookWithinOne / textbookTotal),
  },
};
mkdirSync(path.dirname(stageManifestPath()), { recursive: true });
writeFileSync(stageManifestPath(), `${JSON.stringify(manifest, null, 2)}\n`);
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
console.log(
  `cross-validated on ${cv.spines} spines: staged ${pct(cv.staged)}, exact ${pct(cv.exact)}, within one ${pct(cv.withinOne)}, ` +
    `QWK ${cv.quadraticKappa.toFixed(3)}, top-2 ${pct(cv.top2)}, ECE ${cv.ece.toFixed(3)}, log-loss ${cv.logLoss.toFixed(3)}`,
);
console.log(
  `  with the landmark model's error folded in: exact ${pct(cvModelError.exact)}, within one ${pct(cvModelError.withinOne)}, ` +
    `QWK ${cvModelError.quadraticKappa.toFixed(3)}, top-2 ${pct(cvModelError.top2)}, ECE ${cvModelError.ece.toFixed(3)}`,
);
console.log(
  `textbook rules on the same spines: staged ${pct(textbookStaged / textbookTotal)}, exact ${pct(textbookExact / textbookTotal)}`,
);
console.log(`wrote ${STAGE_PARAMS_PATH} and ${stageManifestPath()}`);
