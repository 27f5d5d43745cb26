/**
 * Manifests of the whole-image models (models/README.md, "Whole-image models"): `task: "boneage"` and
 * `task: "radiograph-kind"`. One ONNX file each, input a [1, 1, 100, 100] image prepared by
 * `squashNearest`. Parsed and checked without touching files; main/inference checks the file's sha256 and
 * the graph's names and shapes.
 */
import { RADIOGRAPH_KINDS } from './kind';
import type { BoneAgeCalibration } from './estimate';
import { HAND_INPUT_SIZE } from './prepare';

export interface WholeImageTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

interface Common {
  readonly id: string;
  readonly version: string;
  readonly createdAt: string;
  readonly license: string;
  readonly file: string;
  readonly sha256: string;
  readonly image: WholeImageTensor;
  readonly output: WholeImageTensor;
  readonly preparation: 'squash-nearest';
  /** Free text for people: data, resolution, age range, limits (shown by the CLI and the docs). */
  readonly modelCard: Readonly<Record<string, unknown>>;
  readonly accuracy: Readonly<Record<string, unknown>> | null;
}

export interface BoneAgeManifest extends Common {
  readonly task: 'boneage';
  readonly sexInput: WholeImageTensor;
  /** Fold models in the ensemble (output [1, members, 2]). */
  readonly members: number;
  readonly ageRangeMonths: readonly [number, number];
  readonly calibration: BoneAgeCalibration;
}

export interface RadiographKindManifest extends Common {
  readonly task: 'radiograph-kind';
  readonly classes: readonly string[];
  readonly minProbability: number;
}

export type WholeImageManifest = BoneAgeManifest | RadiographKindManifest;

export class WholeImageManifestError extends Error {}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isPositive = (v: unknown): v is number => isNumber(v) && v > 0;

function need<T>(obj: Json, key: string, where: string, test: (v: unknown) => v is T, what: string): T {
  const v = obj[key];
  if (!test(v)) throw new WholeImageManifestError(`${where}.${key} must be ${what}`);
  return v;
}

function tensor(obj: Json, key: string, where: string, shape: readonly number[]): WholeImageTensor {
  const t = need(obj, key, where, isObject, 'an object');
  const name = need(t, 'name', `${where}.${key}`, isString, 'a tensor name');
  const got = need(
    t,
    'shape',
    `${where}.${key}`,
    (v): v is number[] => Array.isArray(v) && v.every((d) => Number.isInteger(d) && d > 0),
    'a shape of positive integers',
  );
  if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
    throw new WholeImageManifestError(`${where}.${key}.shape is [${got.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return { name, shape: got };
}

export function parseWholeImageManifest(json: unknown): WholeImageManifest {
  if (!isObject(json)) throw new WholeImageManifestError('the manifest must be a JSON object');
  const w = 'manifest';
  const task = json.task;
  if (task !== 'boneage' && task !== 'radiograph-kind')
    throw new WholeImageManifestError(`manifest.task "${String(task)}" is not "boneage" or "radiograph-kind"`);
  const inputs = need(json, 'inputs', w, isObject, 'an object');
  const s = HAND_INPUT_SIZE;
  const common = {
    id: need(json, 'id', w, isString, 'a non-empty string'),
    version: need(json, 'version', w, isString, 'a non-empty string'),
    createdAt: typeof json.createdAt === 'string' ? json.createdAt : '',
    license: typeof json.license === 'string' ? json.license : '',
    file: need(json, 'file', w, isString, 'a file name'),
    sha256: need(
      json,
      'sha256',
      w,
      (v): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/i.test(v),
      'a sha256 in hex',
    ).toLowerCase(),
    image: tensor(inputs, 'image', 'manifest.inputs', [1, 1, s, s]),
    preparation: 'squash-nearest' as const,
    modelCard: need(json, 'modelCard', w, isObject, 'an object (data, resolution, age range, limits)'),
    accuracy: isObject(json.accuracy) ? json.accuracy : null,
  };
  if (json.preparation !== 'squash-nearest')
    throw new WholeImageManifestError(
      `manifest.preparation "${String(json.preparation)}" is not supported (only "squash-nearest")`,
    );
  if (task === 'boneage') {
    const members = need(
      json,
      'members',
      w,
      (v): v is number => Number.isInteger(v) && (v as number) >= 1,
      'a positive integer',
    );
    const range = need(
      json,
      'ageRangeMonths',
      w,
      (v): v is [number, number] =>
        Array.isArray(v) && v.length === 2 && v.every(isNumber) && (v[0] as number) < (v[1] as number),
      '[low, high] in months',
    );
    const cal = need(json, 'calibration', w, isObject, 'an object');
    const inCal = <T>(key: string, test: (v: unknown) => v is T, what: string): T =>
      need(cal, key, 'manifest.calibration', test, what);
    const level = inCal('level', (v): v is number => isNumber(v) && v < 1 && v > 0, 'a coverage between 0 and 1');
    const z = inCal('z', isPositive, 'a positive normal quantile');
    const scale = inCal('scale', isPositive, 'a positive number');
    return {
      ...common,
      task,
      sexInput: tensor(inputs, 'male', 'manifest.inputs', [1, 1]),
      output: tensor(json, 'output', w, [1, members, 2]),
      members,
      ageRangeMonths: range,
      calibration: {
        level,
        z,
        scale,
        meanIntercept: cal.meanIntercept === undefined ? 0 : inCal('meanIntercept', isNumber, 'a number'),
        meanSlope: cal.meanSlope === undefined ? 1 : inCal('meanSlope', isPositive, 'a positive number'),
      },
    };
  }
  const classes = need(
    json,
    'classes',
    w,
    (v): v is string[] => Array.isArray(v) && v.every(isString),
    'an array of class names',
  );
  if (classes.length !== RADIOGRAPH_KINDS.length || classes.some((c, i) => c !== RADIOGRAPH_KINDS[i])) {
    throw new WholeImageManifestError(
      `manifest.classes must be [${RADIOGRAPH_KINDS.join(', ')}], got [${classes.join(', ')}]`,
    );
  }
  const minProbability = need(
    json,
    'minProbability',
    w,
    (v): v is number => isNumber(v) && v >= 0 && v < 1,
    'a probability',
  );
  return { ...common, task, output: tensor(json, 'output', w, [1, classes.length]), classes, minProbability };
}
