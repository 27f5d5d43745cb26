/**
 * Hand-wrist radiographs as use cases: recognise an image's kind (stored once per model), estimate and
 * record its bone age, enter the patient's sex when the file lacks it (audited), and keep hands away from
 * the vertebral landmark model. One warm whole-image engine per data folder in this process.
 */
import type { BoneAgeRequest, BoneAgeView, RadiographKindView, SetPatientSexRequest } from '../../core/api/boneage';
import { fail, ok, type ErrorCode, type Result } from '../../core/api/result';
import type { OpenedImage } from '../../core/api/image';
import { compareWithAge, parseSex, type Sex } from '../../core/boneage/index';
import { greyImageOf, modelDirs, openWholeImageModels, type WholeImageModels } from '../inference/index';
import { enterSexForBoneAge, latestBoneAge, readKind, recordBoneAge } from '../store/boneage';
import { StoreError } from '../store/errors';
import type { ServiceContext } from './context';
import { loadImagePixels, storeFor } from './studies';

const opened = new Map<string, { key: string; models: WholeImageModels }>();

/** The whole-image models of the data folder (shipped + user), re-opened when a manifest changes. */
export function wholeImageModelsFor(ctx: Pick<ServiceContext, 'dataDir'>): WholeImageModels {
  const fresh = openWholeImageModels(modelDirs(ctx.dataDir));
  const key = [fresh.kindModel?.manifestSha256, fresh.boneAgeModel?.manifestSha256].join('/');
  const current = opened.get(ctx.dataDir);
  if (current && current.key === key) {
    void fresh.close();
    return current.models;
  }
  if (current) void current.models.close();
  opened.set(ctx.dataDir, { key, models: fresh });
  return fresh;
}

export async function closeWholeImageModels(): Promise<void> {
  const all = [...opened.values()];
  opened.clear();
  await Promise.all(all.map((o) => o.models.close()));
}

/** A request that cannot be served as asked; carries an ApiError code. */
export class BoneAgeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The stored kind of an image, classified (and stored) when absent or made by another model; null without a kind model.
 */
export async function kindOfImage(
  ctx: ServiceContext,
  imageId: number,
  image?: OpenedImage,
): Promise<RadiographKindView | null> {
  const models = wholeImageModelsFor(ctx);
  if (!models.kindModel) return null;
  const store = storeFor(ctx);
  const stored = readKind(store, imageId);
  if (stored && stored.model.sha256 === models.kindModel.manifest.sha256) return stored;
  const pixels = image ?? (await loadImagePixels(store, imageId));
  const r = await models.classifyRadiograph(greyImageOf(pixels));
  const view: RadiographKindView = {
    kind: r.kind,
    uncertain: r.uncertain,
    probabilities: r.probabilities,
    model: { id: r.model.id, version: r.model.version, sha256: r.model.sha256 },
  };
  await store.writeKindOffThread(imageId, view);
  return view;
}

const pct = (p: number): string => `${Math.round(p * 100)}%`;

/**
 * The file's PatientSex, else the sex a user entered (studies.entered_sex, Store.setPatientInfo); 'O' counts as
 * unknown.
 */
function sexOf(
  ctx: ServiceContext,
  imageId: number,
  image: OpenedImage,
): { sex: Sex | null; source: 'file' | 'entered' | null } {
  const file = parseSex(image.info.meta.sex);
  if (file) return { sex: file, source: 'file' };
  const entered = parseSex(storeFor(ctx).loadStudy(imageId).info.meta.sex);
  return entered ? { sex: entered, source: 'entered' } : { sex: null, source: null };
}

/** Chronological age at the study: from the file, else as entered by a user. */
function ageOf(ctx: ServiceContext, imageId: number): number | null {
  return storeFor(ctx).loadStudy(imageId).info.meta.ageYears;
}

function modelCardLines(models: WholeImageModels): string[] {
  const card = models.boneAgeModel?.manifest.modelCard ?? {};
  return ['data', 'resolution', 'ageRange', 'validation']
    .map((k) => card[k])
    .filter((v): v is string => typeof v === 'string');
}

export async function boneAgeView(ctx: ServiceContext, imageId: number): Promise<BoneAgeView> {
  const store = storeFor(ctx);
  const image = await loadImagePixels(store, imageId);
  const kind = await kindOfImage(ctx, imageId, image);
  const { sex, source } = sexOf(ctx, imageId, image);
  const latest = latestBoneAge(store, imageId);
  const chronologicalAgeYears = ageOf(ctx, imageId);
  return {
    imageId,
    kind,
    sex,
    sexSource: source,
    sexEditable: source !== 'file',
    chronologicalAgeYears,
    latest,
    comparison: latest ? compareWithAge(latest.months, chronologicalAgeYears, latest.sex) : null,
    modelCard: modelCardLines(wholeImageModelsFor(ctx)),
  };
}

/** Whether the landmark model finds a plausible C2-C4 column in an image (services/analysis.ts). */
export type ColumnCheck = (image: OpenedImage) => Promise<boolean>;

/**
 * The refusal of a bone age for an image the radiograph-kind model took for a hand and the landmark model finds a
 * plausible C2-C4 column in: the kind model judges the whole frame at 100 x 100 pixels, and a cephalogram on a black
 * canvas twice its size is a hand to it (radiograph-kind 1.2.0, P 0.81), while the landmark model, which finds no
 * column in the RSNA hands, finds it there.
 */
export function cephalogramNotHand(fileName: string, pHand: number): string {
  return (
    `${fileName}: the radiograph-kind model took it for a hand-wrist radiograph (P hand ${pct(pHand)}), but the ` +
    'landmark model found a plausible C2-C4 column: it is taken as a lateral cephalogram, no bone age. Analyse its ' +
    'landmarks instead; if it is a hand radiograph, check the image (a frame or border around it misleads the models).'
  );
}

/**
 * Estimates and records the bone age of a stored hand radiograph. `findsColumn`: the landmark model's second opinion
 * on a hand verdict; where it finds a column the stored kind becomes a cephalogram the classifier was unsure of (as
 * an analysis records it) and no bone age is given.
 */
export async function estimateBoneAgeOfImage(
  ctx: ServiceContext,
  imageId: number,
  findsColumn?: ColumnCheck,
): Promise<BoneAgeView> {
  const store = storeFor(ctx);
  const image = await loadImagePixels(store, imageId);
  const models = wholeImageModelsFor(ctx);
  if (!models.boneAgeModel) throw new BoneAgeError('model-invalid', models.problems.join(' '));
  const kind = await kindOfImage(ctx, imageId, image);
  if (kind && kind.kind !== 'hand') {
    throw new BoneAgeError(
      'unsupported',
      `${image.info.fileName} was recognised as ${kind.kind === 'other' ? 'neither a hand nor a cephalogram' : 'a cephalogram'} ` +
        `(P hand ${pct(kind.probabilities.hand)}): no bone age.`,
    );
  }
  // The landmark model looks while the bone-age model runs (two workers): its answer decides what is recorded.
  const column = kind && findsColumn ? findsColumn(image) : Promise.resolve(false);
  const refuseCephalogram = async (): Promise<void> => {
    if (!kind || !(await column)) return;
    await store.writeKindOffThread(imageId, { ...kind, kind: 'cephalogram', uncertain: true });
    throw new BoneAgeError('unsupported', cephalogramNotHand(image.info.fileName, kind.probabilities.hand));
  };
  const { sex, source } = sexOf(ctx, imageId, image);
  if (!sex) {
    await refuseCephalogram();
    throw new BoneAgeError(
      'invalid-request',
      `${image.info.fileName} has no patient sex: enter it first (bone age depends on it).`,
    );
  }
  const estimating = models.estimateBoneAge(greyImageOf(image), sex);
  estimating.catch(() => undefined); // reported below unless the landmark model refuses the image first
  await refuseCephalogram();
  const r = await estimating;
  const author = store.userName();
  recordBoneAge(
    store,
    imageId,
    {
      months: r.months,
      sdMonths: r.sdMonths,
      low: r.interval.low,
      high: r.interval.high,
      level: r.interval.level,
      sex,
      sexSource: source === 'file' ? 'DICOM PatientSex' : `entered in the app`,
      members: r.members,
      model: { id: r.model.id, version: r.model.version, sha256: r.model.sha256 },
    },
    author,
  );
  return boneAgeView(ctx, imageId);
}

export async function setPatientSex(ctx: ServiceContext, request: SetPatientSexRequest): Promise<BoneAgeView> {
  const store = storeFor(ctx);
  const image = await loadImagePixels(store, request.imageId);
  const file = parseSex(image.info.meta.sex);
  if (file)
    throw new BoneAgeError(
      'conflict',
      `${image.info.fileName} states the patient's sex (${file}) in its DICOM header; it cannot be changed here.`,
    );
  enterSexForBoneAge(store, request.imageId, request.sex, store.userName());
  return boneAgeView(ctx, request.imageId);
}

async function guarded<T>(fn: () => Promise<T>): Promise<Result<T>> {
  try {
    return ok(await fn());
  } catch (error) {
    if (error instanceof BoneAgeError || error instanceof StoreError) return fail(error.code, error.message);
    if (
      error instanceof Error &&
      'code' in error &&
      typeof error.code === 'string' &&
      ['not-found', 'corrupt-file', 'model-invalid', 'inference-failed', 'storage'].includes(error.code)
    ) {
      return fail(error.code as ErrorCode, error.message);
    }
    throw error;
  }
}

export interface BoneAgeHandlers {
  getBoneAge(request: BoneAgeRequest): Promise<Result<BoneAgeView>>;
  estimateBoneAge(request: BoneAgeRequest): Promise<Result<BoneAgeView>>;
  setPatientSex(request: SetPatientSexRequest): Promise<Result<BoneAgeView>>;
}

/** `findsColumn`: the landmark model's second opinion on a hand verdict (see estimateBoneAgeOfImage). */
export function boneAgeHandlers(ctx: ServiceContext, findsColumn?: ColumnCheck): BoneAgeHandlers {
  return {
    getBoneAge: (request) => guarded(() => boneAgeView(ctx, request.imageId)),
    estimateBoneAge: (request) => guarded(() => estimateBoneAgeOfImage(ctx, request.imageId, findsColumn)),
    setPatientSex: (request) => guarded(() => setPatientSex(ctx, request)),
  };
}
