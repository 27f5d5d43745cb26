/** `cvm stage`: CVM stage, measurements and explanation for every image of a cvm13 annotation file. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCommandLine } from '../args';
import { imagePoint, type PixelSpacingMm } from '../../../core/geometry/index';
import { isLandmarkName, type LandmarkSet } from '../../../core/landmarks/index';
import { assess, modelStageLabel, stageLabel, THRESHOLD_PRESETS, type Assessment } from '../../../core/cvm/index';
import { type Command, UsageError } from '../command';

interface AnnotatedImage {
  readonly id: string;
  readonly image: string;
  readonly landmarks: LandmarkSet;
}

interface AnnotationFile {
  readonly spacing: PixelSpacingMm | null;
  readonly images: readonly AnnotatedImage[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a cvm13 annotation file; throws an Error naming the file and the problem. */
export function readAnnotationFile(file: string): AnnotationFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(data) || !isObject(data.images))
    throw new Error(`${file} is not a cvm13 annotation file: no "images" object`);
  const spacing = parseSpacing(data.pixel_spacing_mm, file);
  const dir = path.dirname(path.resolve(file));
  const images = Object.entries(data.images).map(([id, entry]): AnnotatedImage => {
    if (!isObject(entry) || typeof entry.image !== 'string' || !isObject(entry.points)) {
      throw new Error(`${file}: image "${id}" needs "image" (a path) and "points" (an object)`);
    }
    const landmarks: Record<string, ReturnType<typeof imagePoint>> = {};
    for (const [name, xy] of Object.entries(entry.points)) {
      if (!isLandmarkName(name)) throw new Error(`${file}: image "${id}" has unknown landmark "${name}"`);
      if (!Array.isArray(xy) || xy.length !== 2 || typeof xy[0] !== 'number' || typeof xy[1] !== 'number') {
        throw new Error(`${file}: image "${id}" landmark ${name} must be [x, y] numbers`);
      }
      landmarks[name] = imagePoint(xy[0], xy[1]);
    }
    return { id, image: path.resolve(dir, entry.image), landmarks: landmarks as LandmarkSet };
  });
  return { spacing, images };
}

/** `pixel_spacing_mm: [row, col]` (or one number); absent: unknown. */
function parseSpacing(value: unknown, file: string): PixelSpacingMm | null {
  if (value === undefined || value === null) return null;
  const pair = typeof value === 'number' ? [value, value] : value;
  if (
    !Array.isArray(pair) ||
    pair.length !== 2 ||
    !pair.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)
  ) {
    throw new Error(`${file}: pixel_spacing_mm must be a positive number or [row, col] positive numbers`);
  }
  return { rowMm: pair[0] as number, colMm: pair[1] as number };
}

const fixed = (v: number, d: number): string => v.toFixed(d);

function tableRow(id: string, a: Assessment): string {
  if (!a.ok) return `${id.padEnd(6)} error: ${a.error.message}`;
  const m = a.measurements;
  const u = m.unit;
  const conc = [m.C2, m.C3, m.C4]
    .map((v) => `${fixed(v.concavity.share * 100, 1)}%/${fixed(v.concavity.depth, 2)}${u}`.padStart(14))
    .join('');
  const shape = (b: typeof m.C3.body): string =>
    `${b.shape} w/h ${fixed(b.ratio, 2)} a/p ${fixed(b.heightRatio, 2)}`.padEnd(42);
  const s = a.staging;
  const model = `${modelStageLabel(s)} ${s.runnerUp} ${(s.runnerUpProbability * 100).toFixed(0)}%`;
  return `${id.padEnd(6)} ${model.padEnd(18)}${stageLabel(a.result).padEnd(38)}${conc}   ${shape(m.C3.body)}${shape(m.C4.body)}`;
}

function parseOptions(argv: string[]) {
  try {
    return parseCommandLine({
      args: argv,
      options: {
        annotations: { type: 'string' },
        json: { type: 'boolean' },
        preset: { type: 'string' },
        spacing: { type: 'string' },
      },
    }).values;
  } catch (error) {
    // node:util reports unknown options and missing values as TypeErrors: they are usage errors here.
    throw new UsageError((error as Error).message);
  }
}

export const stageCommand: Command = {
  name: 'stage',
  summary: 'CVM stage, measurements and explanation for each image of a cvm13 annotation file',
  usage: 'cvm stage --annotations <file> [--json] [--preset default|cvmt] [--spacing <mm>]',
  async run(argv) {
    const values = parseOptions(argv);
    if (values.annotations === undefined) throw new UsageError('--annotations <file> is required');
    const presetName = values.preset ?? 'default';
    if (presetName !== 'default' && presetName !== 'cvmt')
      throw new UsageError(`unknown preset "${presetName}"; presets: default, cvmt`);
    const thresholds = THRESHOLD_PRESETS[presetName];
    let spacingOverride: PixelSpacingMm | null = null;
    if (values.spacing !== undefined) {
      const mm = Number(values.spacing);
      if (!Number.isFinite(mm) || mm <= 0)
        throw new UsageError(`--spacing must be a positive number of mm per pixel, got "${values.spacing}"`);
      spacingOverride = { rowMm: mm, colMm: mm };
    }
    const file = readAnnotationFile(values.annotations);
    const spacing = spacingOverride ?? file.spacing;
    const rows = file.images.map((img) => ({ img, assessment: assess(img.landmarks, spacing, thresholds) }));
    // The model's stages (every measurable spine gets one) and the textbook criteria's, side by side.
    const distribution: Record<string, number> = {};
    const textbookDistribution: Record<string, number> = {};
    for (const { assessment } of rows) {
      const key = assessment.ok ? assessment.staging.stage : 'error';
      distribution[key] = (distribution[key] ?? 0) + 1;
      const tb = assessment.ok ? (assessment.result.kind === 'stage' ? assessment.result.stage : 'no-fit') : 'error';
      textbookDistribution[tb] = (textbookDistribution[tb] ?? 0) + 1;
    }

    if (values.json) {
      console.log(
        JSON.stringify(
          {
            annotations: path.resolve(values.annotations),
            preset: thresholds.name,
            spacing,
            stageModel: rows.flatMap(({ assessment }) => (assessment.ok ? [assessment.staging.model] : []))[0] ?? null,
            distribution,
            textbookDistribution,
            images: rows.map(({ img, assessment }) => ({
              id: img.id,
              image: img.image,
              ...(assessment.ok
                ? {
                    stage: assessment.staging.stage,
                    probability: assessment.staging.probability,
                    runnerUp: assessment.staging.runnerUp,
                    probabilities: Object.fromEntries(
                      assessment.staging.probabilities.map((p, i) => [`CS${i + 1}`, p]),
                    ),
                    confidence: assessment.staging.confidence,
                    textbookStage: assessment.staging.textbook.stage,
                    textbookNote: assessment.staging.textbook.note,
                    label: stageLabel(assessment.result),
                    staging: assessment.staging,
                    result: assessment.result,
                    measurements: assessment.measurements,
                  }
                : { stage: null, label: 'error', error: assessment.error }),
            })),
          },
          null,
          2,
        ),
      );
      return 0;
    }
    const unit = spacing === null ? 'px' : 'mm';
    console.log(
      `preset ${thresholds.name}; spacing ${spacing === null ? 'unknown (lengths in px)' : `${spacing.rowMm} x ${spacing.colMm} mm`}`,
    );
    console.log(
      `${'image'.padEnd(6)} ${'stage (model)'.padEnd(18)}${'textbook criteria'.padEnd(38)}${`C2 conc/${unit}`.padStart(14)}${`C3 conc/${unit}`.padStart(14)}${`C4 conc/${unit}`.padStart(14)}   ${'C3 body'.padEnd(42)}C4 body`,
    );
    for (const { img, assessment } of rows) console.log(tableRow(img.id, assessment));
    console.log(
      `\n${rows.length} images, stage by the model: ${Object.entries(distribution)
        .sort()
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    console.log(
      `textbook criteria (${thresholds.name}): ${Object.entries(textbookDistribution)
        .sort()
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')} (borderline results counted as the stage found)`,
    );
    return 0;
  },
};
