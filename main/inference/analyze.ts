/**
 * One image from pixels to stage: the engine's prediction, then core/cvm on the predicted landmarks, with
 * the quality gate deciding whether the stage may be presented as certain. Shared by the app's analysis
 * service, `cvm analyze`, `cvm eval` and the benchmark.
 */
import type { AnalysisResult, Prediction } from '../../core/api/analysis';
import type { OpenedImage, Spacing } from '../../core/api/image';
import { assess, modelStageLabel, type StagingOptions } from '../../core/cvm/index';
import type { Assessment } from '../../core/cvm/index';
import { imagePoint } from '../../core/geometry/index';
import type { LandmarkSet } from '../../core/landmarks/index';
import type { InferenceEngine } from './engine';
import type { PipelineImage } from './pipeline';

/**
 * Below this share of the full range, an image shown as stored is a washed-out one (a scanned film, an export with
 * a compressed range): the ISBI cephalograms the models learnt from fill 74-96% of it with their 1st-99th
 * percentiles.
 */
const WASHED_OUT_SHARE = 0.5;

/**
 * The model input of an opened image: its pixels under the default (first) window; for an image shown as stored
 * over the full range whose automatic window (the next one) spans less than half of it, under that automatic
 * window instead. The networks normalise contrast themselves (z-score), but not a grey floor far above black
 * next to the black padding outside the image: the cvm13 images compressed to 30% of the range around mid-grey
 * put 20 points on another vertebra (docs/inference.md, "Washed-out images").
 */
export function pipelineImageOf(opened: OpenedImage): PipelineImage {
  const { width, height, data, windows } = opened.pixels;
  const [first, next] = windows;
  if (!first) throw new Error(`${opened.info.fileName} has no display window`);
  const fullRange = first.width >= 65536;
  const window = fullRange && next && next.width < WASHED_OUT_SHARE * 65536 ? next : first;
  return { width, height, data, window: { center: window.center, width: window.width } };
}

export function landmarkSetOf(prediction: Pick<Prediction, 'landmarks'>): LandmarkSet {
  const set: LandmarkSet = {};
  for (const l of prediction.landmarks) set[l.name] = imagePoint(l.x, l.y);
  return set;
}

/** How the problem a damaged file adds begins (withFileDamage); the summary of an unrecognised image keeps it. */
const FILE_DAMAGED = 'The file is damaged:';

/**
 * The prediction of an image whose decoder reported damaged data (a truncated JPEG, corrupt compressed frames,
 * invalid DICOM elements: the warnings that say "damaged"): the damage named among its problems, and the verdict
 * never "ok", since the part of the image that is wrong may be where the vertebrae are.
 */
export function withFileDamage(prediction: Prediction, fileWarnings: readonly string[] | undefined): Prediction {
  const damage = (fileWarnings ?? []).filter((w) => /\bdamaged\b/.test(w));
  if (damage.length === 0) return prediction;
  const q = prediction.quality;
  return {
    ...prediction,
    quality: {
      ...q,
      verdict: q.verdict === 'ok' ? 'uncertain' : q.verdict,
      problems: [...q.problems, `${FILE_DAMAGED} ${damage.join('; ')}. Import an undamaged copy if there is one.`],
    },
  };
}

/** One line: the stage and whether it can be trusted. */
export function summarize(prediction: Prediction, assessment: Assessment): { stageCertain: boolean; summary: string } {
  const { verdict, problems } = prediction.quality;
  if (!prediction.recognition.lateralCephalogram) {
    const damage = problems.filter((p) => p.startsWith(FILE_DAMAGED));
    return {
      stageCertain: false,
      summary: [
        `${prediction.recognition.cephalogramByKind === undefined ? 'Not a lateral cephalogram' : 'No C2-C4 column found'} (no landmarks, no stage): ${prediction.recognition.reason ?? ''}`.trim(),
        ...damage,
      ].join(' '),
    };
  }
  const turned = prediction.orientation.corrected
    ? ` (${prediction.orientation.detail.replace(/^the image was/, 'image')})`
    : '';
  const withTurn = (r: { stageCertain: boolean; summary: string }): { stageCertain: boolean; summary: string } => ({
    ...r,
    summary: `${r.summary}${turned}`,
  });
  return withTurn(summarizeRecognised(prediction, assessment, verdict, problems));
}

function summarizeRecognised(
  prediction: Prediction,
  assessment: Assessment,
  verdict: Prediction['quality']['verdict'],
  problems: readonly string[],
): { stageCertain: boolean; summary: string } {
  if (!assessment.ok) {
    return {
      stageCertain: false,
      summary: [`No stage: ${assessment.error.message.replace(/\.?$/, '.')}`, ...problems].join(' '),
    };
  }
  const s = assessment.staging;
  const label = modelStageLabel(s);
  if (verdict === 'failed')
    return {
      stageCertain: false,
      summary: `No reliable stage (the landmarks would give ${label}): ${problems.join(' ')}`,
    };
  if (verdict === 'uncertain')
    return { stageCertain: false, summary: `${label}, uncertain: ${problems.join(' ')} Check the landmarks.` };
  const detail = `${label}, runner-up ${s.runnerUp} (${Math.round(s.runnerUpProbability * 100)}%), ${s.confidence} confidence`;
  return { stageCertain: true, summary: s.textbook.note ? `${detail}. ${s.textbook.note}` : detail };
}

/** Every predicted landmark carries the landmark model's expected error (its own per landmark, else the default). */
export function predictionStagingOptions(prediction: Pick<Prediction, 'landmarks'>): StagingOptions {
  return {
    landmarkErrorMm: Object.fromEntries(
      prediction.landmarks.map((l) => [l.name, typeof l.expectedErrorMm === 'number' ? l.expectedErrorMm : null]),
    ),
  };
}

export interface AnalyzeOptions {
  readonly imageId?: number | null;
  readonly decodeMs?: number | null;
  /** Overrides the image's own spacing (e.g. `--spacing 0.1`). */
  readonly spacing?: Spacing | null;
  /** 'as-stored': the image as it is, no orientation search (InferenceEngine.analyze). */
  readonly orientation?: 'auto' | 'as-stored';
}

export async function analyzeOpened(
  engine: InferenceEngine,
  opened: OpenedImage,
  options: AnalyzeOptions = {},
): Promise<AnalysisResult> {
  const start = performance.now();
  const spacing = options.spacing !== undefined && options.spacing !== null ? options.spacing : opened.info.spacing;
  const prediction = withFileDamage(
    await engine.analyze(pipelineImageOf(opened), spacing, opened.info.fileName, options.orientation ?? 'auto'),
    opened.info.warnings,
  );
  const t1 = performance.now();
  const meta = opened.info.meta;
  const assessment = assess(landmarkSetOf(prediction), spacing, undefined, {
    ...predictionStagingOptions(prediction),
    ageYears: meta?.ageYears ?? null,
    sex: meta?.sex ?? null,
  });
  const t2 = performance.now();
  const decodeMs = options.decodeMs ?? null;
  return {
    imageId: options.imageId ?? null,
    fileName: opened.info.fileName,
    spacing,
    prediction,
    assessment,
    ...summarize(prediction, assessment),
    ...(opened.info.warnings?.length ? { fileWarnings: opened.info.warnings } : {}),
    timings: { decodeMs, inferenceMs: t1 - start, stagingMs: t2 - t1, totalMs: t2 - start + (decodeMs ?? 0) },
    recorded: null,
  };
}

export function enteredSpacing(mm: number, detail: string): Spacing {
  return { rowMm: mm, colMm: mm, source: 'entered', detail };
}
