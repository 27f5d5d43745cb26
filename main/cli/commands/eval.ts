/**
 * `cvm eval --annotations <cvm13 file>`: runs the app's inference on every annotated image and measures
 * landmark error (mean, median, SDR at 1/2/2.5/4 mm, per landmark) and stage agreement, skipping points
 * filled from a prediction; compares with the second human annotator of image 001; and says whether the
 * images were in the model's training data, next to the manifest's cross-validated figures.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCommandLine } from '../args';
import { runBoneAgeEval } from './boneage';
import { assess, CVM_STAGES, stageLabel, STAGE_MODEL } from '../../../core/cvm/index';
import { DEFAULT_FIT_OPTIONS, predictSpine, repeatedCrossValidation } from '../../../core/cvm/fit';
import { measure } from '../../../core/cvm/measure';
import { stage as textbookStage } from '../../../core/cvm/stage';
import { probabilisticAgreement, type ProbabilisticAgreement } from '../../../core/metrics/index';
import { hasClinicianStages, readClinicianStagedFile } from '../clinician-stages';
import { imagePoint, type PixelSpacingMm } from '../../../core/geometry/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../../../core/landmarks/index';
import {
  agreesAllowingBorderline,
  mean,
  median,
  onWrongVertebra,
  radialErrors,
  spearman,
  stageAgreement,
  stageOutcome,
  successDetectionRate,
  type StageOutcome,
} from '../../../core/metrics/index';
import { openImageFile } from '../../services/files';
import {
  enteredSpacing,
  landmarkSetOf,
  resolveAnalysisModel,
  startFileAnalysis,
  verifyModel,
  type FileAnalyzer,
  type VerifiedModel,
} from '../../services/file-analysis';
import { defaultDataDir } from '../../services/data-dir';
import { type Command, UsageError } from '../command';
import { createProgress } from '../progress';
import { readAnnotationFile } from './stage';
import { stageManifestPath } from '../stage-model-files';

export const SDR_RADII_MM = [1, 2, 2.5, 4] as const;

// ---- LabelMe polygons of a second annotator -> the 13 names, by geometry ------------------------------------

type Pt = { x: number; y: number };
const sub = (a: Pt, b: Pt): Pt => ({ x: a.x - b.x, y: a.y - b.y });
const dot = (a: Pt, b: Pt): number => a.x * b.x + a.y * b.y;
const centroid = (ps: readonly Pt[]): Pt => ({ x: mean(ps.map((p) => p.x)), y: mean(ps.map((p) => p.y)) });

/** Drops points within `tolerancePx` of an earlier one (LabelMe polygons sometimes repeat a vertex). */
function dedupe(ps: readonly Pt[], tolerancePx = 3): Pt[] {
  const out: Pt[] = [];
  for (const p of ps) if (!out.some((q) => Math.hypot(p.x - q.x, p.y - q.y) <= tolerancePx)) out.push(p);
  return out;
}

/**
 * Maps three LabelMe polygons (C2: its lower border, 3 points; C3 and C4: 5 points each, in any order)
 * to the 13 landmarks: vertebrae ordered top to bottom; "down" is the direction from the C2 to the C4
 * centroid; the face is on the side away from the image half holding the spine; on each body the two
 * points highest along "down" are the upper corners, the other three the lower border; along the
 * anterior direction the extremes are the posterior and anterior corners, the middle one the deepest point.
 */
export function labelmeToLandmarks(
  shapes: readonly { points: readonly (readonly number[])[] }[],
  imageWidth: number,
): LandmarkSet {
  const polys = shapes.map((s) =>
    dedupe(
      s.points.map(([x, y]) => {
        if (x === undefined || y === undefined)
          throw new Error(`a labelme point has ${x === undefined ? 'no' : 'one'} coordinate, two expected`);
        return { x, y };
      }),
    ),
  );
  const c2 = polys.filter((p) => p.length === 3);
  const [c2Poly] = c2;
  const bodies = polys.filter((p) => p.length === 5).sort((a, b) => centroid(a).y - centroid(b).y);
  if (c2.length !== 1 || !c2Poly || bodies.length !== 2) {
    throw new Error(
      `expected one 3-point polygon (C2) and two 5-point polygons (C3, C4); got ${polys.map((p) => p.length).join(', ')} points`,
    );
  }
  const [c3, c4] = bodies as [Pt[], Pt[]];
  const top = centroid(c2Poly);
  const bottom = centroid(c4);
  const len = Math.hypot(bottom.x - top.x, bottom.y - top.y);
  const down = { x: (bottom.x - top.x) / len, y: (bottom.y - top.y) / len };
  const facesRight = centroid([...c2Poly, ...c3, ...c4]).x < imageWidth / 2;
  const normal = { x: -down.y, y: down.x };
  const ant = normal.x > 0 === facesRight ? normal : { x: -normal.x, y: -normal.y };
  const byAnterior = (ps: readonly Pt[]): Pt[] => [...ps].sort((a, b) => dot(a, ant) - dot(b, ant));
  const set: LandmarkSet = {};
  const put = (name: LandmarkName, p: Pt): void => {
    set[name] = imagePoint(p.x, p.y);
  };
  const [c2p, c2m, c2a] = byAnterior(c2Poly) as [Pt, Pt, Pt];
  put('C2p', c2p);
  put('C2m', c2m);
  put('C2a', c2a);
  for (const [v, body] of [
    ['C3', c3],
    ['C4', c4],
  ] as const) {
    const c = centroid(body);
    const alongDown = [...body].sort((a, b) => dot(sub(a, c), down) - dot(sub(b, c), down));
    const [up, ua] = byAnterior(alongDown.slice(0, 2)) as [Pt, Pt];
    const [lp, m, la] = byAnterior(alongDown.slice(2)) as [Pt, Pt, Pt];
    put(`${v}up`, up);
    put(`${v}ua`, ua);
    put(`${v}lp`, lp);
    put(`${v}m`, m);
    put(`${v}la`, la);
  }
  return set;
}

// ---- the evaluation ------------------------------------------------------------------------------------------

interface ImageEval {
  readonly id: string;
  readonly file: string;
  readonly inTraining: boolean | null;
  readonly errorsMm: Partial<Record<LandmarkName, number>>;
  readonly skipped: readonly LandmarkName[];
  readonly predictedStage: StageOutcome;
  readonly trueStage: StageOutcome;
  readonly predictedLabel: string;
  readonly trueLabel: string;
  /** The predicted result names the true stage, or has it as the other side of its borderline pair. */
  readonly agreesAllowingBorderline: boolean;
  /** The staging model on the predicted landmarks (their expected error folded in) and on the annotated ones. */
  readonly modelPredicted: { readonly stage: string; readonly probabilities: readonly number[] } | null;
  readonly modelAnnotated: string | null;
  readonly verdict: string;
  /** Calibrated expected error per landmark (mm), and whether it was flagged for checking. */
  readonly expectedMm: Partial<Record<LandmarkName, number>>;
  readonly flagged: readonly LandmarkName[];
  /** Landmarks on another vertebra than their own (core/metrics onWrongVertebra). */
  readonly wrongVertebra: readonly LandmarkName[];
  /** Landmarks for which the shape model chose a weaker heatmap peak. */
  readonly reselected: readonly LandmarkName[];
  readonly orientation: string;
  readonly ms: number;
}

/** How well the expected error ranks and flags the actual error. */
export function expectedErrorSummary(
  rows: readonly ImageEval[],
): { points: number; spearman: number; flaggedShare: number; over2mm: number; over2mmFlagged: number } | null {
  const pairs = rows.flatMap((r) =>
    (Object.entries(r.errorsMm) as [LandmarkName, number][]).flatMap(([n, e]) => {
      const x = r.expectedMm[n];
      return x === undefined ? [] : [{ e, x, flagged: r.flagged.includes(n) }];
    }),
  );
  if (pairs.length === 0) return null;
  const big = pairs.filter((p) => p.e > 2);
  return {
    points: pairs.length,
    spearman: spearman(
      pairs.map((p) => p.x),
      pairs.map((p) => p.e),
    ),
    flaggedShare: pairs.filter((p) => p.flagged).length / pairs.length,
    over2mm: big.length,
    over2mmFlagged: big.length > 0 ? big.filter((p) => p.flagged).length / big.length : Number.NaN,
  };
}

export interface ErrorSummary {
  readonly images: number;
  readonly landmarks: number;
  readonly mre_mm: number;
  readonly median_mm: number;
  readonly sdr: Readonly<Record<string, number>>;
  readonly per_landmark_mm: Readonly<Partial<Record<LandmarkName, number>>>;
}

export function summarizeErrors(rows: readonly { errorsMm: Partial<Record<LandmarkName, number>> }[]): ErrorSummary {
  const all = rows.flatMap((r) => Object.values(r.errorsMm) as number[]);
  return {
    images: rows.length,
    landmarks: all.length,
    mre_mm: mean(all),
    median_mm: median(all),
    sdr: Object.fromEntries(SDR_RADII_MM.map((r) => [`${r}mm`, successDetectionRate(all, r)])),
    per_landmark_mm: Object.fromEntries(
      LANDMARK_NAMES.map((n) => [
        n,
        mean(
          rows.flatMap((r) => {
            const e = r.errorsMm[n];
            return e === undefined ? [] : [e];
          }),
        ),
      ]),
    ),
  };
}

function errorsOf(
  pred: LandmarkSet,
  truth: LandmarkSet,
  spacing: PixelSpacingMm,
  skip: readonly LandmarkName[],
): Partial<Record<LandmarkName, number>> {
  const r = radialErrors(pred, truth, spacing, skip);
  if (r.missingInPrediction.length > 0) throw new Error(`the prediction lacks ${r.missingInPrediction.join(', ')}`);
  return Object.fromEntries(
    r.errors.map((e) => {
      if (e.mm === null) throw new Error(`the error of ${e.name} has no size in mm (the pixel spacing is unknown)`);
      return [e.name, e.mm];
    }),
  );
}

/**
 * The fold models of a cross-validation: each a model folder whose manifest lists `training.heldOut` (the
 * images it is evaluated on) and `training.images` (plus optional `training.auxiliaryImages`: every image it
 * learnt from in any form), so that "in training" is computed from the lists, not assumed.
 */
function readFoldModels(dir: string): { model: VerifiedModel; heldOut: Set<string>; trained: Set<string> }[] {
  const folds = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => path.join(dir, e.name))
    .sort();
  if (folds.length === 0) throw new UsageError(`${dir} holds no fold model folders`);
  return folds.map((f) => {
    const model = verifyModel(f, 'user');
    const heldOut = model.manifest.training?.heldOut;
    if (!heldOut || heldOut.length === 0) throw new UsageError(`${f}/manifest.json lists no training.heldOut images`);
    const t = model.manifest.training;
    if (!t?.images || t.images.length === 0)
      throw new UsageError(
        `${f}/manifest.json lists no training.images: without them "not in training" cannot be checked`,
      );
    const trained = new Set([...stemsOf(t.images), ...(trainingIds(t.auxiliaryImages) ?? [])]);
    return { model, heldOut: new Set(heldOut), trained };
  });
}

/**
 * How the expected-error calibration the fold models carry relates to the points it is scored on here:
 * fit_decoding.py writes into each fold model's decoding.json the calibration fitted WITHOUT that fold's points
 * (`expectedError.crossValidated.fittedWithout` = the fold folder's name), so that the rank correlation and the
 * flag shares below are leave-one-fold-out; an older fold file carries the fit on all points (in-sample).
 */
export function calibrationProvenance(dirs: readonly string[]): 'leave-one-fold-out' | 'in-sample' {
  const held = dirs.every((dir) => {
    const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { decoding?: { file?: string } };
    if (!m.decoding?.file) return false;
    const d = JSON.parse(readFileSync(path.join(dir, m.decoding.file), 'utf8')) as {
      expectedError?: { crossValidated?: { fittedWithout?: unknown } };
    };
    return d.expectedError?.crossValidated?.fittedWithout === path.basename(dir);
  });
  return held ? 'leave-one-fold-out' : 'in-sample';
}

/** The image ids (file names without folder and extension) of a training list. */
function stemsOf(images: readonly string[]): Set<string> {
  return new Set(images.map((s) => path.basename(s).replace(/\.[^.]+$/, '')));
}

function trainingIds(images: readonly string[] | undefined): Set<string> | null {
  return images ? stemsOf(images) : null;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
const mmText = (v: number): string => `${v.toFixed(3)} mm`;

function printSummary(title: string, s: ErrorSummary): void {
  console.log(`${title}: ${s.images} images, ${s.landmarks} landmarks`);
  console.log(`  mean radial error ${mmText(s.mre_mm)}, median ${mmText(s.median_mm)}`);
  console.log(`  SDR ${SDR_RADII_MM.map((r) => `${r} mm ${pct(s.sdr[`${r}mm`] ?? Number.NaN)}`).join(', ')}`);
  console.log(
    `  per landmark (mm): ${LANDMARK_NAMES.map((n) => `${n} ${(s.per_landmark_mm[n] ?? Number.NaN).toFixed(2)}`).join(', ')}`,
  );
}

// ---- stages given by clinicians (no images: the annotated points) ------------------------------------------

const rate = (v: number): string => `${(v * 100).toFixed(1)}%`;

function agreementLine(
  a: Pick<ProbabilisticAgreement, 'exact' | 'withinOne' | 'quadraticKappa' | 'top2' | 'ece'> & { logLoss?: number },
): string {
  return (
    `exact ${rate(a.exact)}, within one stage ${rate(a.withinOne)}, quadratic-weighted kappa ${a.quadraticKappa.toFixed(3)}, ` +
    `top-2 ${rate(a.top2)}, ECE (10 bins) ${a.ece.toFixed(3)}${a.logLoss !== undefined ? `, log-loss ${a.logLoss.toFixed(3)}` : ''}`
  );
}

/**
 * The staging model against clinicians' stages. On the file it was fitted to (same sha256 as its manifest says),
 * or with --cross-validate, the honest figures are cross-validated: the fit script's recipe, repeated on the
 * file's spines. On any other file, the shipped model itself is measured (held-out figures).
 */
async function evalClinicianStages(
  file: string,
  options: { json: boolean; crossValidate: boolean; repeats: number },
): Promise<number> {
  const data = readClinicianStagedFile(file);
  const trainingSha = STAGE_MODEL.training?.dataSha256 ?? readStageManifestSha();
  const isTrainingData = trainingSha !== null && trainingSha === data.sha256;
  const total = data.spines.length + data.unmeasurable.length;
  const textbook = textbookAgreement(file);
  const unmeasurable = data.unmeasurable.map((u) => ({ id: u.id, stage: u.stage, error: u.error.message }));
  if (isTrainingData || options.crossValidate) {
    const t0 = performance.now();
    const cv = repeatedCrossValidation(
      data.spines,
      data.unmeasurable.length,
      5,
      options.repeats,
      DEFAULT_FIT_OPTIONS,
      (n) => {
        if (!options.json && process.stderr.isTTY)
          process.stderr.write(`\rcross-validation ${n}/${options.repeats}   `);
      },
    );
    if (!options.json && process.stderr.isTTY) process.stderr.write('\n');
    const report = {
      annotations: file,
      sha256: data.sha256,
      mode: 'cross-validated',
      why: isTrainingData
        ? 'this is the file the shipped staging model was fitted to: its own figures here would be training-set figures'
        : '--cross-validate',
      spines: total,
      staged: data.spines.length,
      unmeasurable,
      crossValidated: cv,
      textbookRules: textbook,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
    if (options.json) {
      console.log(JSON.stringify(report, null, 2));
      return 0;
    }
    console.log(
      `${data.fileName} (sha256 ${data.sha256.slice(0, 12)}): ${total} spines with clinicians' stages; ${data.spines.length} staged (${rate(data.spines.length / total)})` +
        `${unmeasurable.length > 0 ? `; not measurable: ${unmeasurable.map((u) => `${u.id} (${u.error})`).join('; ')}` : ''}`,
    );
    console.log(`NOTE: ${report.why}, so these figures are cross-validated: ${cv.protocol}.`);
    console.log(`  ${agreementLine(cv)}`);
    console.log(
      `  range over the ${cv.repeats} repetitions: ${(['exact', 'withinOne', 'quadraticKappa', 'top2', 'ece'] as const).map((k) => `${k} ${cv.range[k][0].toFixed(3)}-${cv.range[k][1].toFixed(3)}`).join(', ')}`,
    );
    console.log(
      `textbook criteria (default preset) on the same spines: ${rate(textbook.staged)} staged, exact ${rate(textbook.exact)}, within one ${rate(textbook.withinOne)} (spines without a textbook stage count as wrong)`,
    );
    return 0;
  }
  // A file the model has not seen: the shipped model, as the app uses it (points as placed by people).
  const probabilities = data.spines.map((s) => predictSpine(STAGE_MODEL, s));
  const a = probabilisticAgreement(
    probabilities,
    data.spines.map((s) => s.label),
  );
  const report = {
    annotations: file,
    sha256: data.sha256,
    mode: 'shipped-model',
    model: { id: STAGE_MODEL.id, version: STAGE_MODEL.version },
    spines: total,
    staged: data.spines.length,
    unmeasurable,
    agreement: a,
    agreementAllSpines: {
      exact: (a.exact * data.spines.length) / total,
      withinOne: (a.withinOne * data.spines.length) / total,
    },
    textbookRules: textbook,
    spinesDetail: data.spines.map((s, i) => {
      const p = probabilities[i];
      if (!p) throw new Error(`spine ${s.id} has no predicted probabilities`);
      return { id: s.id, clinician: CVM_STAGES[s.label], probabilities: Array.from(p) };
    }),
  };
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  console.log(
    `${data.fileName} (sha256 ${data.sha256.slice(0, 12)}): ${total} spines with clinicians' stages, not the staging model's training data; model ${STAGE_MODEL.id} ${STAGE_MODEL.version}`,
  );
  console.log(
    `  staged ${data.spines.length}/${total} (${rate(data.spines.length / total)})${unmeasurable.length > 0 ? `; not measurable: ${unmeasurable.map((u) => `${u.id} (${u.error})`).join('; ')}` : ''}`,
  );
  console.log(`  ${agreementLine(a)}`);
  console.log(
    `textbook criteria (default preset) on the same spines: ${rate(textbook.staged)} staged, exact ${rate(textbook.exact)}, within one ${rate(textbook.withinOne)}`,
  );
  return 0;
}

/** sha256 of the data the shipped staging model was fitted to, from its manifest (null when the manifest is absent). */
function readStageManifestSha(): string | null {
  try {
    const manifest = JSON.parse(readFileSync(stageManifestPath(), 'utf8')) as { training?: { dataSha256?: string } };
    return manifest.training?.dataSha256 ?? null;
  } catch {
    return null;
  }
}

/**
 * The textbook rules (default thresholds) against the clinicians' stages; a spine they do not stage counts as wrong.
 */
function textbookAgreement(file: string): { staged: number; exact: number; withinOne: number; spines: number } {
  const annotations = readAnnotationFile(file);
  const truth = (JSON.parse(readFileSync(file, 'utf8')) as { clinician_stage: Record<string, string> }).clinician_stage;
  let n = 0,
    staged = 0,
    exact = 0,
    withinOne = 0;
  for (const img of annotations.images) {
    const t = CVM_STAGES.indexOf(truth[img.id] as never);
    if (t < 0) continue;
    n++;
    const m = measure(img.landmarks, annotations.spacing);
    const r = m.ok ? textbookStage(m.value) : null;
    if (r === null || r.kind !== 'stage') continue;
    staged++;
    const p = CVM_STAGES.indexOf(r.stage);
    if (p === t) exact++;
    if (Math.abs(p - t) <= 1) withinOne++;
  }
  return { spines: n, staged: staged / n, exact: exact / n, withinOne: withinOne / n };
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'landmark error and stage agreement of the model on a cvm13 annotation file',
  usage:
    'cvm eval --annotations <cvm13 file> | --boneage <labels.csv> [--images <dir>]  [--json] [--model <id or folder>] [--folds <folder of fold models>] [--reference <labelme file of image 001>]\n' +
    '       cvm eval --annotations <file with clinician_stage> [--json] [--cross-validate] [--repeats <n>]',
  async run(argv) {
    // Bone age on a labelled set of hand radiographs: main/cli/commands/boneage.ts.
    if (argv.some((a) => a === '--boneage' || a.startsWith('--boneage='))) return runBoneAgeEval(argv);
    const { values } = parseCommandLine({
      args: argv,
      options: {
        annotations: { type: 'string' },
        json: { type: 'boolean' },
        model: { type: 'string' },
        reference: { type: 'string' },
        folds: { type: 'string' },
        'data-dir': { type: 'string' },
        'cross-validate': { type: 'boolean' },
        repeats: { type: 'string' },
      },
    });
    if (values.annotations === undefined) throw new UsageError('--annotations <file> is required');
    const annotationsPath = path.resolve(values.annotations);
    if (hasClinicianStages(annotationsPath)) {
      const repeats = values.repeats === undefined ? 5 : Number(values.repeats);
      if (!Number.isInteger(repeats) || repeats < 1 || repeats > 50)
        throw new UsageError(`--repeats must be a whole number from 1 to 50, got "${values.repeats}"`);
      return evalClinicianStages(annotationsPath, {
        json: values.json ?? false,
        crossValidate: values['cross-validate'] ?? false,
        repeats,
      });
    }
    const file = readAnnotationFile(annotationsPath);
    if (!file.spacing) throw new UsageError(`${annotationsPath} has no pixel_spacing_mm: errors in mm need it`);
    const spacing = file.spacing;
    const raw = JSON.parse(readFileSync(annotationsPath, 'utf8')) as {
      images: Record<string, { filled_from_prediction?: string[] }>;
    };
    const folds = values.folds ? readFoldModels(path.resolve(values.folds)) : null;
    // readFoldModels returns at least one fold (it throws on a folder without any).
    const firstFold = folds?.[0];
    const model = firstFold
      ? firstFold.model
      : resolveAnalysisModel(values['data-dir'] ?? defaultDataDir(), values.model);
    // Cross-validation: each image by the fold model that held it out; otherwise every image by one model.
    const plans = folds
      ? folds.map((f) => ({
          model: f.model,
          images: file.images.filter((img) => f.heldOut.has(img.id)),
          training: f.trained as Set<string> | null,
        }))
      : [{ model, images: file.images, training: trainingIds(model.manifest.training?.images) }];
    if (folds) {
      const covered = new Set(plans.flatMap((p) => p.images.map((img) => img.id)));
      const orphans = file.images.filter((img) => !covered.has(img.id)).map((img) => img.id);
      if (orphans.length > 0) throw new UsageError(`no fold model in ${values.folds} held out ${orphans.join(', ')}`);
    }
    const [firstPlan] = plans;
    if (!firstPlan) throw new Error('eval: no evaluation plan (no model and no fold)');
    const training = firstPlan.training;
    const spacingInfo = {
      ...enteredSpacing(spacing.colMm, 'pixel_spacing_mm of the annotation file'),
      rowMm: spacing.rowMm,
    };
    let provider: FileAnalyzer['provider'] | null = null;
    const rows: ImageEval[] = [];
    const refused: { id: string; reason: string }[] = [];
    const predictions = new Map<string, LandmarkSet>();
    let done = 0;
    const progress = createProgress('eval', file.images.length);
    for (const plan of plans) {
      // The app's analysis path on files (main/services/file-analysis.ts); no kind check: eval measures the
      // landmark model alone on a set of known cephalograms.
      const engine = await startFileAnalysis({
        dataDir: values['data-dir'] ?? defaultDataDir(),
        model: plan.model,
        recogniseKind: false,
      });
      provider ??= engine.provider;
      try {
        for (const img of plan.images) {
          done += 1;
          progress.update(done, img.id);
          const t0 = performance.now();
          const opened = await openImageFile(img.image);
          const result = await engine.analyze(opened, { spacing: spacingInfo });
          const pred = landmarkSetOf(result.prediction);
          if (!result.prediction.recognition.lateralCephalogram) {
            // Refused as "not a lateral cephalogram": no landmarks to score; counted and named below.
            refused.push({ id: img.id, reason: result.prediction.recognition.reason ?? '' });
            continue;
          }
          predictions.set(img.id, pred);
          const skip = (raw.images[img.id]?.filled_from_prediction ?? []).filter((n): n is LandmarkName =>
            (LANDMARK_NAMES as readonly string[]).includes(n),
          );
          const truthAssessment = assess(img.landmarks, spacing);
          rows.push({
            id: img.id,
            file: img.image,
            inTraining: plan.training
              ? plan.training.has(img.id) || plan.training.has(path.basename(img.image).replace(/\.[^.]+$/, ''))
              : null,
            errorsMm: errorsOf(pred, img.landmarks, spacing, skip),
            skipped: skip,
            predictedStage: stageOutcome(result.assessment),
            trueStage: stageOutcome(truthAssessment),
            predictedLabel: result.assessment.ok ? stageLabel(result.assessment.result) : 'error',
            trueLabel: truthAssessment.ok ? stageLabel(truthAssessment.result) : 'error',
            agreesAllowingBorderline:
              result.assessment.ok && truthAssessment.ok && truthAssessment.result.kind === 'stage'
                ? agreesAllowingBorderline(result.assessment.result, truthAssessment.result.stage)
                : stageOutcome(result.assessment) === stageOutcome(truthAssessment),
            modelPredicted: result.assessment.ok
              ? { stage: result.assessment.staging.stage, probabilities: result.assessment.staging.probabilities }
              : null,
            modelAnnotated: truthAssessment.ok ? truthAssessment.staging.stage : null,
            verdict: result.prediction.quality.verdict,
            expectedMm: Object.fromEntries(
              result.prediction.landmarks.flatMap((l) =>
                l.expectedErrorMm === null ? [] : [[l.name, l.expectedErrorMm] as const],
              ),
            ),
            flagged: result.prediction.landmarks
              .filter((l) => l.issues.includes('high-expected-error') || l.issues.includes('low-confidence'))
              .map((l) => l.name),
            wrongVertebra: onWrongVertebra(pred, img.landmarks, spacing, skip),
            reselected: result.prediction.anatomy?.reselected ?? [],
            orientation: result.prediction.orientation.detail,
            ms: performance.now() - t0,
          });
        }
      } finally {
        await engine.close();
      }
    }
    progress.finish();
    if (!provider) throw new UsageError(`${annotationsPath} lists no images`);

    const overall = summarizeErrors(rows);
    const heldOut = rows.filter((r) => r.inTraining === false);
    const agreement = stageAgreement(rows.map((r) => ({ predicted: r.predictedStage, truth: r.trueStage })));
    const inTrainingCount = rows.filter((r) => r.inTraining === true).length;
    const trainingText = [model.manifest.training?.data, model.manifest.training?.notes].filter(Boolean).join(' ');
    const trainingNote = folds
      ? inTrainingCount === 0
        ? `cross-validated: each image was analysed by the fold model of ${values.folds} that held it out; none is in that model's training lists (training.images, training.auxiliaryImages)`
        : `cross-validation broken: ${inTrainingCount} of ${rows.length} images are in the training lists of the fold model that analysed them (${rows
            .filter((r) => r.inTraining === true)
            .map((r) => r.id)
            .join(', ')}); on those, these are training-set figures`
      : training === null
        ? `the manifest does not list its training images (training.images), so whether these images were seen in training is not known; it says: "${trainingText || 'nothing'}"`
        : `${inTrainingCount} of ${rows.length} images were in the model's training data${inTrainingCount > 0 ? ': on those, these are training-set figures, not an estimate of accuracy on new images' : ''}`;

    // Human reference: the second annotator of image 001 against the ground truth.
    const referencePath =
      values.reference ?? path.join(path.dirname(annotationsPath), '001_second_annotator_labelme.json');
    let human: null | { id: string; errors: ErrorSummary; modelVsSecond: ErrorSummary | null } = null;
    if (existsSync(referencePath)) {
      const lm = JSON.parse(readFileSync(referencePath, 'utf8')) as {
        shapes: { points: number[][] }[];
        imageWidth: number;
        imagePath?: string;
      };
      const id = path.basename(lm.imagePath ?? '001').replace(/\.[^.]+$/, '');
      const truthImg = file.images.find((im) => im.id === id);
      if (truthImg) {
        const second = labelmeToLandmarks(lm.shapes, lm.imageWidth);
        const skip = (raw.images[id]?.filled_from_prediction ?? []) as LandmarkName[];
        const pred = predictions.get(id);
        human = {
          id,
          errors: summarizeErrors([{ errorsMm: errorsOf(second, truthImg.landmarks, spacing, skip) }]),
          modelVsSecond: pred ? summarizeErrors([{ errorsMm: errorsOf(pred, second, spacing, []) }]) : null,
        };
      }
    }

    // The staging model: stage from the predicted landmarks against the stage from the annotated landmarks.
    const both = rows.flatMap(({ id, modelPredicted, modelAnnotated }) =>
      modelPredicted !== null && modelAnnotated !== null ? [{ id, modelPredicted, modelAnnotated }] : [],
    );
    const modelStages =
      both.length > 0
        ? {
            staged: both.length,
            images: rows.length,
            ...probabilisticAgreement(
              both.map((r) => r.modelPredicted.probabilities),
              both.map((r) => CVM_STAGES.indexOf(r.modelAnnotated as never)),
            ),
          }
        : null;
    const report = {
      annotations: annotationsPath,
      stagingModel: { id: STAGE_MODEL.id, version: STAGE_MODEL.version },
      modelStageAgreement: modelStages,
      model: { id: model.manifest.id, version: model.manifest.version, manifestSha256: model.manifestSha256 },
      provider,
      training: { note: trainingNote, imagesInTraining: inTrainingCount, listed: training !== null },
      measured: { allImages: overall, heldOutImages: heldOut.length > 0 ? summarizeErrors(heldOut) : null },
      wrongVertebra: rows.reduce((n, r) => n + r.wrongVertebra.length, 0),
      refusedAsNotCephalogram: refused,
      expectedError: expectedErrorSummary(rows),
      // leave-one-fold-out when each fold model's calibration was fitted without its own images (fit_decoding.py)
      expectedErrorCalibration: folds ? calibrationProvenance(folds.map((f) => f.model.dir)) : null,
      stageAgreement: {
        exact: agreement.exact,
        exactRate: agreement.exactRate,
        withinOne: agreement.withinOne,
        withinOneRate: agreement.withinOneRate,
        allowingBorderline: rows.filter((r) => r.agreesAllowingBorderline).length,
        total: agreement.total,
        confusion: agreement.confusion,
      },
      manifestCrossValidated: model.manifest.accuracy,
      humanReference: human,
      images: rows,
    };
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
      return 0;
    }
    console.log(
      `model ${model.manifest.id} ${model.manifest.version} (provider ${provider.used}); ${rows.length} images of ${annotationsPath}; spacing ${spacing.rowMm} x ${spacing.colMm} mm`,
    );
    console.log(`NOTE: ${trainingNote}.`);
    const overallTitle =
      inTrainingCount === rows.length
        ? 'measured here, all images (all in the training data: training-set figures)'
        : inTrainingCount > 0
          ? `measured here, all images (${inTrainingCount} in the training data)`
          : 'measured here, all images';
    printSummary(overallTitle, overall);
    if (heldOut.length > 0 && heldOut.length < rows.length)
      printSummary('measured here, images not in the training data', summarizeErrors(heldOut));
    if (modelStages) {
      console.log(
        `staging model ${STAGE_MODEL.id} ${STAGE_MODEL.version}, stage from predicted landmarks (their expected error folded in) vs from annotated landmarks, ${modelStages.staged} of ${modelStages.images} images staged both ways:`,
      );
      console.log(`  ${agreementLine(modelStages)}`);
      const differ = both.filter((r) => r.modelPredicted.stage !== r.modelAnnotated);
      if (differ.length > 0)
        console.log(
          `  differing (predicted vs annotated): ${differ.map((r) => `${r.id} ${r.modelPredicted.stage} vs ${r.modelAnnotated}`).join('; ')}`,
        );
    }
    const borderlineAgree = rows.filter((r) => r.agreesAllowingBorderline).length;
    console.log(
      `textbook criteria, stage from predicted vs from annotated landmarks (default thresholds; a borderline result counts as the stage it found; "no stage fits" agrees with "no stage fits"):`,
    );
    console.log(
      `  exact ${agreement.exact}/${agreement.total} (${pct(agreement.exactRate)}); allowing the other side of a borderline pair ${borderlineAgree}/${rows.length} (${pct(borderlineAgree / rows.length)}); both staged and at most one stage apart ${agreement.withinOne}/${agreement.total} (${pct(agreement.withinOneRate)})`,
    );
    const disagreements = rows.filter((r) => r.predictedStage !== r.trueStage);
    if (disagreements.length > 0) {
      console.log(
        `  differing (predicted vs annotated): ${disagreements.map((r) => `${r.id} ${r.predictedStage} [${r.predictedLabel}] vs ${r.trueStage} [${r.trueLabel}]`).join('; ')}`,
      );
    }
    if (refused.length > 0)
      console.log(
        `REFUSED as not a lateral cephalogram (not scored): ${refused.map((r) => `${r.id} (${r.reason})`).join('; ')}`,
      );
    const wrong = rows.filter((r) => r.wrongVertebra.length > 0);
    console.log(
      `points on another vertebra: ${wrong.reduce((n, r) => n + r.wrongVertebra.length, 0)}${wrong.length > 0 ? ` (${wrong.map((r) => `${r.id}: ${r.wrongVertebra.join(', ')}`).join('; ')})` : ''}`,
    );
    const ee = expectedErrorSummary(rows);
    if (ee) {
      console.log(
        `expected error vs actual: Spearman ${ee.spearman.toFixed(3)} over ${ee.points} points; flagged ${pct(ee.flaggedShare)} of all points and ${Number.isNaN(ee.over2mmFlagged) ? 'n/a' : pct(ee.over2mmFlagged)} of the ${ee.over2mm} points more than 2 mm off${folds ? ` (${calibrationProvenance(folds.map((f) => f.model.dir)) === 'leave-one-fold-out' ? "leave-one-fold-out: each fold model's calibration was fitted without its images" : 'in-sample: the fold models carry a calibration fitted on these same points'})` : ''}`,
      );
    }
    const reselected = rows.filter((r) => r.reselected.length > 0);
    if (reselected.length > 0)
      console.log(
        `shape model chose a weaker peak: ${reselected.map((r) => `${r.id}: ${r.reselected.join(', ')}`).join('; ')}`,
      );
    const verdicts = Object.entries(
      rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.verdict]: (acc[r.verdict] ?? 0) + 1 }), {}),
    );
    console.log(`quality gate: ${verdicts.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    const acc = model.manifest.accuracy;
    if (acc) {
      console.log(`cross-validated (from the manifest, the honest estimate for new images): ${acc.protocol}`);
      const sdr = (
        [
          ['1 mm', acc.sdr_1mm],
          ['2 mm', acc.sdr_2mm],
          ['2.5 mm', acc.sdr_2_5mm],
          ['4 mm', acc.sdr_4mm],
        ] as const
      )
        .flatMap(([r, v]) => (v === undefined ? [] : [`${r} ${pct(v)}`]))
        .join(', ');
      console.log(
        `  ${acc.images} images, mean radial error ${mmText(acc.mre_mm)}${acc.median_mm !== undefined ? `, median ${mmText(acc.median_mm)}` : ''}, SDR ${sdr}`,
      );
    } else if (!folds) {
      // The manifest may hold a protocol without figures (e.g. "pending").
      const raw = JSON.parse(readFileSync(path.join(model.dir, 'manifest.json'), 'utf8')) as {
        accuracy?: { protocol?: unknown };
      };
      console.log(
        `cross-validated figures: none in the manifest${typeof raw.accuracy?.protocol === 'string' ? ` (it says: "${raw.accuracy.protocol}")` : ''}`,
      );
    }
    if (human) {
      printSummary(`human reference: second annotator vs ground truth, image ${human.id}`, human.errors);
      if (human.modelVsSecond)
        console.log(`  model vs second annotator on ${human.id}: mean ${mmText(human.modelVsSecond.mre_mm)}`);
    } else {
      console.log(`human reference: ${referencePath} not found`);
    }
    return 0;
  },
};
