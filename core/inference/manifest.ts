/**
 * The model manifest of models/README.md: parsed and checked without touching files (main/inference then
 * checks the files, their sha256 and the ONNX graphs against it).
 */
import { LANDMARK_NAMES, isLandmarkName, type LandmarkName } from '../landmarks/index';

export interface TensorSpec {
  readonly name: string;
  /** NCHW. */
  readonly shape: readonly [number, number, number, number];
}

export interface StageSpec {
  readonly file: string;
  readonly sha256: string;
  readonly input: TensorSpec;
  readonly output: TensorSpec;
  readonly heatmapStride: number;
  readonly normalization: 'zscore';
}

export interface LocateStageSpec extends StageSpec {
  readonly resize: 'letterbox-area';
}

export interface RefineStageSpec extends StageSpec {
  readonly mmPerPixel: number;
  readonly roiMm: readonly [number, number];
  /**
   * Further independently trained stage-2 networks (an ensemble) with exactly this stage's input, output and
   * processing: `stages.refine.ensemble` of the manifest, each `{file, sha256}`; empty when absent. The
   * decoding file's test-time passes say which member runs on which crop (member 0 is `file`).
   */
  readonly ensemble: readonly { readonly file: string; readonly sha256: string }[];
}

/** Every stage-2 network of a model as a stage spec: member 0 is `stages.refine`, then its `ensemble`. */
export function refineMembers(refine: RefineStageSpec): RefineStageSpec[] {
  return [refine, ...refine.ensemble.map((m) => ({ ...refine, file: m.file, sha256: m.sha256, ensemble: [] }))];
}

export interface ModelAccuracy {
  readonly protocol: string;
  readonly images: number;
  readonly mre_mm: number;
  readonly median_mm?: number;
  readonly sdr_1mm?: number;
  readonly sdr_2mm: number;
  readonly sdr_2_5mm?: number;
  readonly sdr_4mm?: number;
  readonly per_landmark_mm?: Readonly<Record<string, number>>;
}

export interface ModelManifest {
  readonly id: string;
  readonly version: string;
  readonly createdAt: string;
  readonly license: string;
  /** Heatmap channel order of both stages. */
  readonly landmarks: readonly LandmarkName[];
  readonly training: {
    readonly data?: string;
    readonly recipe?: string;
    readonly notes?: string;
    /** Identifiers (annotation ids or file names) of the images the shipped weights were trained on. */
    readonly images?: readonly string[];
    /** Images used only as auxiliary training data (e.g. stage 1's ISBI face landmarks); never evaluated on. */
    readonly auxiliaryImages?: readonly string[];
    /**
     * For a cross-validation fold model: the annotated images it did not learn landmarks from (its validation fold).
     */
    readonly heldOut?: readonly string[];
  } | null;
  readonly accuracy: ModelAccuracy | null;
  /** Optional `quality.minConfidence`: heatmap peak below which a landmark is unreliable. */
  readonly minConfidence: number | null;
  readonly stages: { readonly locate: LocateStageSpec; readonly refine: RefineStageSpec };
  /** Optional shape model and expected-error calibration (decoding.json, see core/inference/decoding.ts). */
  readonly decoding: { readonly file: string; readonly sha256: string } | null;
}

export class ManifestError extends Error {}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isPositiveInt = (v: unknown): v is number => isPositive(v) && Number.isInteger(v);

function field<T>(obj: Json, key: string, where: string, test: (v: unknown) => v is T, what: string): T {
  const value = obj[key];
  if (!test(value)) throw new ManifestError(`${where}.${key} must be ${what}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isShape = (v: unknown): v is [number, number, number, number] =>
  Array.isArray(v) && v.length === 4 && v.every(isPositiveInt);

function tensor(obj: Json, key: string, where: string): TensorSpec {
  const t = field(obj, key, where, isObject, 'an object');
  return {
    name: field(t, 'name', `${where}.${key}`, isString, 'a tensor name'),
    shape: field(t, 'shape', `${where}.${key}`, isShape, 'an NCHW shape of 4 positive integers'),
  };
}

function stage(stages: Json, key: 'locate' | 'refine', channels: number): StageSpec & Json {
  const where = `stages.${key}`;
  const st = field(stages, key, 'stages', isObject, 'an object');
  const input = tensor(st, 'input', where);
  const output = tensor(st, 'output', where);
  const stride =
    st.heatmapStride === undefined ? 1 : field(st, 'heatmapStride', where, isPositiveInt, 'a positive integer');
  const [n, c, H, W] = input.shape;
  if (n !== 1 || c !== 1)
    throw new ManifestError(`${where}.input.shape must be [1, 1, H, W], got [${input.shape.join(', ')}]`);
  const expected = [1, channels, H / stride, W / stride];
  if (output.shape.some((d, i) => d !== expected[i])) {
    throw new ManifestError(
      `${where}.output.shape is [${output.shape.join(', ')}], expected [${expected.join(', ')}] ` +
        `(${channels} landmarks, input ${W}x${H}, stride ${stride})`,
    );
  }
  const normalization = st.normalization;
  if (normalization !== 'zscore') {
    throw new ManifestError(`${where}.normalization "${String(normalization)}" is not supported (only "zscore")`);
  }
  return {
    ...st,
    file: field(st, 'file', where, isString, 'a file name'),
    sha256: field(
      st,
      'sha256',
      where,
      (v): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/i.test(v),
      'a sha256 in hex',
    ).toLowerCase(),
    input,
    output,
    heatmapStride: stride,
    normalization,
  };
}

const isSha256 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/i.test(v);

/** `stages.refine.ensemble`: absent, or a list of {file, sha256}, each file named once and not the main one. */
function refineEnsemble(v: unknown, mainFile: string): { file: string; sha256: string }[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ManifestError('stages.refine.ensemble must be an array of {file, sha256}');
  const seen = new Set([mainFile]);
  return v.map((m: unknown, i) => {
    const where = `stages.refine.ensemble[${i}]`;
    if (!isObject(m)) throw new ManifestError(`${where} must be an object {file, sha256}`);
    const file = field(m, 'file', where, isString, 'a file name');
    if (seen.has(file)) throw new ManifestError(`${where}.file "${file}" is already a stage-2 network of this model`);
    seen.add(file);
    return { file, sha256: field(m, 'sha256', where, isSha256, 'a sha256 in hex').toLowerCase() };
  });
}

function accuracy(v: unknown): ModelAccuracy | null {
  if (!isObject(v) || typeof v.mre_mm !== 'number' || typeof v.sdr_2mm !== 'number') return null;
  return v as unknown as ModelAccuracy;
}

/** Checks the manifest's structure and internal consistency; throws ManifestError naming the field. */
export function parseManifest(json: unknown): ModelManifest {
  if (!isObject(json)) throw new ManifestError('the manifest must be a JSON object');
  const id = field(json, 'id', 'manifest', isString, 'a non-empty string');
  const version = field(json, 'version', 'manifest', isString, 'a non-empty string');
  const landmarks = field(json, 'landmarks', 'manifest', Array.isArray, 'an array of landmark names') as unknown[];
  const unknown = landmarks.filter((n) => typeof n !== 'string' || !isLandmarkName(n));
  if (unknown.length > 0)
    throw new ManifestError(`manifest.landmarks has unknown names: ${unknown.map(String).join(', ')}`);
  const names = landmarks as LandmarkName[];
  const missing = LANDMARK_NAMES.filter((n) => !names.includes(n));
  if (missing.length > 0 || names.length !== LANDMARK_NAMES.length) {
    throw new ManifestError(
      `manifest.landmarks must list each of the ${LANDMARK_NAMES.length} landmarks once; missing: ${missing.join(', ') || 'none'}, got ${names.length}`,
    );
  }
  const stages = field(json, 'stages', 'manifest', isObject, 'an object');
  const locate = stage(stages, 'locate', names.length);
  if (locate.resize !== 'letterbox-area') {
    throw new ManifestError(`stages.locate.resize "${String(locate.resize)}" is not supported (only "letterbox-area")`);
  }
  const refine = stage(stages, 'refine', names.length);
  const mmPerPixel = field(refine, 'mmPerPixel', 'stages.refine', isPositive, 'a positive number');
  const roiMm = field(
    refine,
    'roiMm',
    'stages.refine',
    (v): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every(isPositive),
    '[width, height] in mm',
  );
  const [, , H, W] = refine.input.shape;
  if (Math.abs(roiMm[0] - W * mmPerPixel) > 1e-3 * roiMm[0] || Math.abs(roiMm[1] - H * mmPerPixel) > 1e-3 * roiMm[1]) {
    throw new ManifestError(
      `stages.refine.roiMm [${roiMm.join(', ')}] does not equal the input size ${W}x${H} times mmPerPixel ${mmPerPixel}`,
    );
  }
  const ensemble = refineEnsemble(refine.ensemble, refine.file);
  const training = isObject(json.training) ? (json.training as ModelManifest['training']) : null;
  let decoding: ModelManifest['decoding'] = null;
  if (json.decoding !== undefined) {
    const d = field(json, 'decoding', 'manifest', isObject, 'an object {file, sha256}');
    decoding = {
      file: field(d, 'file', 'decoding', isString, 'a file name'),
      sha256: field(
        d,
        'sha256',
        'decoding',
        (v): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v),
        'a sha256 hex string',
      ),
    };
  }
  return {
    id,
    version,
    createdAt: typeof json.createdAt === 'string' ? json.createdAt : '',
    license: typeof json.license === 'string' ? json.license : '',
    landmarks: names,
    training,
    accuracy: accuracy(json.accuracy),
    minConfidence: isObject(json.quality) && isPositive(json.quality.minConfidence) ? json.quality.minConfidence : null,
    stages: {
      locate: { ...locate, resize: 'letterbox-area' },
      refine: { ...refine, mmPerPixel, roiMm, ensemble },
    },
    decoding,
  };
}
