/**
 * `cvm boneage <files...> [--sex male|female] [--json]`: recognises each image's kind, and for a hand
 * radiograph gives the bone age (years and months, interval), with chronological age and the difference
 * when the file has them; a hand verdict is checked by the landmark model first (no bone age for an image it finds
 * a C2-C4 column in). `cvm eval --boneage <labels.csv>`: bone-age error on a labelled set
 * (RSNA layout: id,boneage,male with <id>.png beside it), by sex and age band.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCommandLine } from '../args';
import { compareWithAge, formatYearsMonths, parseSex, type AgeComparison, type Sex } from '../../../core/boneage/index';
import { closeInferenceEngines, landmarkSecondOpinion } from '../../services/analysis';
import { cephalogramNotHand, type ColumnCheck } from '../../services/boneage';
import { openImageFile } from '../../services/files';
import {
  greyImageOf,
  openWholeImageModelsFor,
  type BoneAgeResult,
  type RadiographKindResult,
  type WholeImageModels,
} from '../../services/whole-image-files';
import { defaultDataDir } from '../../services/data-dir';
import { median } from '../../../core/metrics/index';
import { type Command, UsageError } from '../command';
import { collectFiles } from './analyze';

export interface BoneAgeFileResult {
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly kind: RadiographKindResult;
  readonly sex: Sex;
  readonly sexSource: string;
  readonly boneAge: BoneAgeResult;
  readonly chronologicalAgeYears: number | null;
  readonly comparison: AgeComparison | null;
  readonly timings: { readonly decodeMs: number; readonly kindMs: number; readonly boneAgeMs: number };
}

/** A file that is not a hand radiograph, or has no sex: refused with the reason, nothing is estimated. */
export class BoneAgeRefusal extends Error {}

export async function boneAgeOfFile(
  models: WholeImageModels,
  file: string,
  sexOption: Sex | null,
  /** The landmark model's second opinion on a hand verdict (as the app's, services/boneage.ts). */
  findsColumn?: ColumnCheck,
): Promise<BoneAgeFileResult> {
  const t0 = performance.now();
  const opened = await openImageFile(file);
  const decodeMs = performance.now() - t0;
  const grey = greyImageOf(opened);
  const t1 = performance.now();
  const kind = await models.classifyRadiograph(grey);
  const kindMs = performance.now() - t1;
  const p = (k: keyof RadiographKindResult['probabilities']): string => kind.probabilities[k].toFixed(2);
  if (kind.kind !== 'hand') {
    throw new BoneAgeRefusal(
      `not a hand radiograph: recognised as ${kind.kind}${kind.uncertain ? ' (uncertain)' : ''} ` +
        `(P cephalogram ${p('cephalogram')}, hand ${p('hand')}, other ${p('other')}); no bone age`,
    );
  }
  // The landmark model looks while the bone-age model runs (two workers): its answer decides which is reported.
  const column = findsColumn ? findsColumn(opened) : Promise.resolve(false);
  const refuseCephalogram = async (): Promise<void> => {
    if (await column) throw new BoneAgeRefusal(cephalogramNotHand(path.basename(file), kind.probabilities.hand));
  };
  const fileSex = parseSex(opened.info.meta.sex);
  let sex: Sex;
  let sexSource: string;
  if (sexOption) {
    sex = sexOption;
    sexSource = fileSex && fileSex !== sexOption ? `--sex (the file's PatientSex says ${fileSex})` : '--sex';
  } else if (fileSex) {
    sex = fileSex;
    sexSource = 'DICOM PatientSex';
  } else {
    await refuseCephalogram();
    throw new BoneAgeRefusal(
      "the patient's sex is unknown (no PatientSex M or F in the file): give --sex male or --sex female; bone age depends on it",
    );
  }
  const t2 = performance.now();
  const estimating = models.estimateBoneAge(grey, sex);
  estimating.catch(() => undefined); // reported below unless the landmark model refuses the image first
  await refuseCephalogram();
  const boneAge = await estimating;
  const boneAgeMs = performance.now() - t2;
  const chrono = opened.info.meta.ageYears;
  return {
    file,
    width: opened.pixels.width,
    height: opened.pixels.height,
    kind,
    sex,
    sexSource,
    boneAge,
    chronologicalAgeYears: chrono,
    comparison: compareWithAge(boneAge.months, chrono, sex),
    timings: { decodeMs, kindMs, boneAgeMs },
  };
}

const f1 = (v: number): string => v.toFixed(1);
const signed = (v: number, d = 0): string => `${v >= 0 ? '+' : ''}${v.toFixed(d)}`;

export function formatBoneAge(r: BoneAgeFileResult): string {
  const b = r.boneAge;
  const lines = [`${r.file}  ${r.width}x${r.height}`];
  lines.push(
    `  kind        ${r.kind.kind} (P hand ${r.kind.probabilities.hand.toFixed(2)}, cephalogram ${r.kind.probabilities.cephalogram.toFixed(2)}, other ${r.kind.probabilities.other.toFixed(2)})`,
  );
  lines.push(`  sex         ${r.sex === 'M' ? 'male' : 'female'} (${r.sexSource})`);
  lines.push(
    `  bone age    ${formatYearsMonths(b.months)} (${f1(b.months)} months); ${Math.round(b.interval.level * 100)}% interval ${formatYearsMonths(b.interval.low)} - ${formatYearsMonths(b.interval.high)} (${f1(b.interval.low)}-${f1(b.interval.high)} months)`,
  );
  if (r.comparison) {
    const c = r.comparison;
    lines.push(
      `  chron. age  ${formatYearsMonths(c.chronologicalMonths)}; bone age ${signed(c.differenceMonths)} months = ${signed(c.sdScore, 1)} SD (SD ${f1(c.referenceSdMonths)} months: ${c.reference})`,
    );
  } else {
    lines.push('  chron. age  unknown (no birth and study dates in the file)');
  }
  lines.push(
    `  model       ${b.model.id} ${b.model.version} (${b.members.length} fold models; manifest sha256 ${b.model.manifestSha256.slice(0, 12)}); kind model ${r.kind.model.id} ${r.kind.model.version}`,
  );
  lines.push(
    `  timings     decode ${f1(r.timings.decodeMs)} ms, kind ${f1(r.timings.kindMs)} ms, bone age ${f1(r.timings.boneAgeMs)} ms (prepare ${f1(b.timings.prepareMs)} + run ${f1(b.timings.runMs)})`,
  );
  return lines.join('\n');
}

function sexOptionOf(value: string | undefined): Sex | null {
  if (value === undefined) return null;
  const sex = parseSex(value);
  if (!sex) throw new UsageError(`--sex must be male or female, got "${value}"`);
  return sex;
}

export const boneageCommand: Command = {
  name: 'boneage',
  summary: 'bone age of hand-wrist radiographs (recognises the kind first; needs the sex)',
  usage: 'cvm boneage <files or folders...> [--sex male|female] [--json] [--data-dir <dir>]',
  async run(argv) {
    const { values, positionals } = parseCommandLine({
      args: argv,
      allowPositionals: true,
      options: { sex: { type: 'string' }, json: { type: 'boolean' }, 'data-dir': { type: 'string' } },
    });
    if (positionals.length === 0) throw new UsageError('give at least one file or folder');
    const sex = sexOptionOf(values.sex);
    const files = collectFiles(positionals);
    if (files.length === 0) throw new UsageError(`no image files in ${positionals.join(', ')}`);
    const dataDir = values['data-dir'] ?? defaultDataDir();
    const models = openWholeImageModelsFor(dataDir);
    if (!models.kindModel || !models.boneAgeModel) {
      await models.close();
      throw new Error(models.problems.join(' '));
    }
    // The landmark engine starts on the first hand verdict only.
    const { findsColumn } = landmarkSecondOpinion({ dataDir, emit: () => {} }, 'as-stored');
    let failed = 0;
    try {
      for (const file of files) {
        try {
          const r = await boneAgeOfFile(models, file, sex, findsColumn);
          if (values.json) process.stdout.write(`${JSON.stringify({ type: 'result', ...r })}\n`);
          else console.log(`${formatBoneAge(r)}\n`);
        } catch (error) {
          failed++;
          const message = error instanceof Error ? error.message : String(error);
          if (values.json) process.stdout.write(`${JSON.stringify({ type: 'error', file, error: message })}\n`);
          else console.log(`${file}\n  refused     ${message}\n`);
        }
      }
    } finally {
      await Promise.all([models.close(), closeInferenceEngines()]);
    }
    return failed > 0 ? 1 : 0;
  },
};

interface Row {
  readonly id: string;
  readonly truth: number;
  readonly sex: Sex;
  readonly predicted: number;
  readonly low: number;
  readonly high: number;
}

export interface BoneAgeFigures {
  readonly cases: number;
  readonly maeMonths: number;
  readonly medianAeMonths: number;
  readonly within12: number;
  readonly coverage: number;
}

export function boneAgeFigures(rows: readonly Row[]): BoneAgeFigures | null {
  if (rows.length === 0) return null;
  const ae = rows.map((r) => Math.abs(r.predicted - r.truth)).sort((a, b) => a - b);
  return {
    cases: rows.length,
    maeMonths: ae.reduce((a, b) => a + b, 0) / ae.length,
    medianAeMonths: median(ae),
    within12: ae.filter((e) => e <= 12).length / ae.length,
    coverage: rows.filter((r) => r.truth >= r.low && r.truth <= r.high).length / rows.length,
  };
}

export const AGE_BANDS: readonly (readonly [number, number])[] = [
  [0, 60],
  [60, 120],
  [120, 180],
  [180, 229],
];

/** `cvm eval --boneage <labels.csv> [--images <dir>] [--json]` */
export async function runBoneAgeEval(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      boneage: { type: 'string' },
      images: { type: 'string' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
    },
  });
  if (!values.boneage) throw new UsageError('--boneage <labels.csv> is required');
  const labels = path.resolve(values.boneage);
  if (!existsSync(labels)) throw new UsageError(`${labels} does not exist`);
  const dir = path.resolve(values.images ?? path.dirname(labels));
  const lines = readFileSync(labels, 'utf8').trim().split(/\r?\n/);
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim().toLowerCase());
  const iId = header.indexOf('id');
  const iAge = header.indexOf('boneage');
  const iMale = header.indexOf('male');
  if (iId < 0 || iAge < 0 || iMale < 0)
    throw new UsageError(
      `${labels} must have the columns id, boneage, male (RSNA layout); it has ${header.join(', ')}`,
    );
  const models = openWholeImageModelsFor(values['data-dir'] ?? defaultDataDir());
  if (!models.boneAgeModel || !models.kindModel) {
    await models.close();
    throw new Error(models.problems.join(' '));
  }
  const rows: Row[] = [];
  const problems: string[] = [];
  const notHands: string[] = [];
  const runMs: number[] = [];
  try {
    for (const line of lines) {
      const cells = line.split(',').map((c) => c.trim());
      const id = cells[iId];
      if (!id) {
        problems.push(`a line of ${labels} has no id: "${line}"`);
        continue;
      }
      const truth = Number(cells[iAge]);
      const sex: Sex = /^true$/i.test(cells[iMale] ?? '') ? 'M' : 'F';
      const file = ['.png', '.jpg', '.dcm', ''].map((e) => path.join(dir, `${id}${e}`)).find((f) => existsSync(f));
      if (!file || !Number.isFinite(truth)) {
        problems.push(`${id}: ${file ? 'bone age is not a number' : `no image ${id}.png in ${dir}`}`);
        continue;
      }
      const opened = await openImageFile(file);
      const grey = greyImageOf(opened);
      const kind = await models.classifyRadiograph(grey);
      if (kind.kind !== 'hand') notHands.push(`${id} (${kind.kind}, P hand ${kind.probabilities.hand.toFixed(2)})`);
      const t = performance.now();
      const b = await models.estimateBoneAge(grey, sex);
      runMs.push(performance.now() - t);
      rows.push({ id, truth, sex, predicted: b.months, low: b.interval.low, high: b.interval.high });
    }
  } finally {
    await models.close();
  }
  const manifest = models.boneAgeModel.manifest;
  const result = {
    labels,
    model: { id: manifest.id, version: manifest.version, members: manifest.members },
    all: boneAgeFigures(rows),
    male: boneAgeFigures(rows.filter((r) => r.sex === 'M')),
    female: boneAgeFigures(rows.filter((r) => r.sex === 'F')),
    byAgeBand: Object.fromEntries(
      AGE_BANDS.map(([lo, hi]) => [
        `${lo}-${Math.min(hi, 228)} months`,
        boneAgeFigures(rows.filter((r) => r.truth >= lo && r.truth < hi)),
      ]),
    ),
    intervalLevel: manifest.calibration.level,
    // The upper middle run time (no mean of two).
    medianBoneAgeMs: [...runMs].sort((a, b) => a - b)[Math.floor(runMs.length / 2)] ?? null,
    notRecognisedAsHand: notHands,
    problems,
    rows,
    crossValidated: manifest.accuracy,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return problems.length > 0 ? 1 : 0;
  }
  const fmt = (name: string, x: BoneAgeFigures | null): string =>
    x
      ? `  ${name.padEnd(18)} n ${String(x.cases).padStart(5)}  MAE ${x.maeMonths.toFixed(1).padStart(5)}  median ${x.medianAeMonths.toFixed(1).padStart(5)}  within 12 mo ${(x.within12 * 100).toFixed(0).padStart(3)}%  ${Math.round(manifest.calibration.level * 100)}% interval covers ${(x.coverage * 100).toFixed(0).padStart(3)}%`
      : `  ${name.padEnd(18)} n     0`;
  console.log(
    `bone age, model ${manifest.id} ${manifest.version} (${manifest.members} fold models), ${rows.length} images of ${labels}`,
  );
  console.log(
    '(months; whether these images were in the training data cannot be told from the files: a figure on training images is optimistic)',
  );
  console.log(fmt('all', result.all));
  console.log(fmt('male', result.male));
  console.log(fmt('female', result.female));
  for (const [band, x] of Object.entries(result.byAgeBand)) console.log(fmt(band, x));
  for (const r of rows)
    console.log(
      `    ${r.id.padEnd(10)} ${r.sex}  truth ${String(r.truth).padStart(4)}  predicted ${r.predicted.toFixed(1).padStart(6)}  error ${signed(r.predicted - r.truth, 1).padStart(6)}`,
    );
  if (result.medianBoneAgeMs !== null)
    console.log(
      `median bone-age time per image after decode (prepare + ONNX, warm): ${result.medianBoneAgeMs.toFixed(1)} ms`,
    );
  if (notHands.length) console.log(`not recognised as a hand: ${notHands.join(', ')}`);
  for (const p of problems) console.log(`problem: ${p}`);
  type CvFigures = { mae_months?: number; within_12_months?: number; coverage_90?: number };
  const acc = manifest.accuracy as {
    protocol?: string;
    all?: CvFigures;
    male?: CvFigures;
    female?: CvFigures;
  } | null;
  const cv = (x: CvFigures) =>
    `MAE ${x.mae_months} months, within 12 months ${((x.within_12_months ?? 0) * 100).toFixed(0)}%, 90% interval coverage ${((x.coverage_90 ?? 0) * 100).toFixed(0)}%`;
  if (acc?.all) {
    console.log(`cross-validated (manifest, the honest estimate): ${acc.protocol}: ${cv(acc.all)}`);
    for (const [label, x] of [
      ['boys', acc.male],
      ['girls', acc.female],
    ] as const)
      if (x) console.log(`  cross-validated, ${label}: ${cv(x)}`);
  }
  return problems.length > 0 ? 1 : 0;
}
