/**
 * Model registry: finds models in the app's models/ folder and the user's <dataDir>/models, checks each
 * manifest against its files (presence, sha256; the graphs are checked when sessions are created), and
 * picks the default. A bad model is listed with the reason it was refused, never used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  DecodingError,
  ManifestError,
  membersUsed,
  parseDecoding,
  parseManifest,
  type DecodingParams,
  type ModelManifest,
} from '../../core/inference/index';
import { ModelError } from './errors';
import { modulePath } from '../workers/entry';
import { isWholeImageModelDir } from './whole-image';

/** The id preferred as default when several valid models are found. */
export const DEFAULT_MODEL_ID = 'cvm13-unet';

export interface VerifiedModel {
  readonly dir: string;
  readonly manifest: ModelManifest;
  /** sha256 of manifest.json: identifies weights, shapes and processing together. */
  readonly manifestSha256: string;
  readonly files: {
    readonly locate: string;
    readonly refine: string;
    /** The ensemble's further stage-2 networks (stages.refine.ensemble), checked like `refine`; usually empty. */
    readonly refineMembers: readonly string[];
  };
  readonly source: 'app' | 'user';
  /** decoding.json (shape model, expected-error calibration), checked; null when the manifest names none. */
  readonly decoding: DecodingParams | null;
}

export interface RefusedModel {
  readonly dir: string;
  readonly source: 'app' | 'user';
  readonly reason: string;
}

export interface ModelDir {
  readonly dir: string;
  readonly source: 'app' | 'user';
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * sha256 of a model file, hashed once per process and again only when its size, modification time or inode
 * change (a replaced or rewritten file): the app checks its models on every analysis request, and hashing
 * the ONNX files each time cost 16 ms of a 130 ms analysis.
 */
const fileHashes = new Map<string, { readonly stamp: string; readonly sha256: string }>();

/**
 * The bytes just hashed, for a few seconds: an inference engine starting right after the check takes them
 * (takeCheckedBytes) instead of reading and hashing the file again in its worker, which a cold start waits on.
 */
const recentBytes = new Map<string, { readonly stamp: string; readonly bytes: Uint8Array<ArrayBuffer> }>();
const RECENT_BYTES_MS = 10_000;

function stampOf(file: string): string {
  const st = statSync(file, { bigint: true });
  return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
}

export function fileSha256(file: string): string {
  const stamp = stampOf(file);
  const known = fileHashes.get(file);
  if (known?.stamp === stamp) return known.sha256;
  const bytes = readFileSync(file);
  const hash = sha256(bytes);
  fileHashes.set(file, { stamp, sha256: hash });
  recentBytes.set(file, { stamp, bytes });
  setTimeout(() => {
    if (recentBytes.get(file)?.bytes === bytes) recentBytes.delete(file);
  }, RECENT_BYTES_MS).unref();
  return hash;
}

/**
 * The bytes of a model file whose sha256 must be `expected`: those fileSha256 has just hashed when the file is
 * unchanged since, else read and hashed now. Handed over once, in a buffer of their own (the caller may
 * transfer it). Throws ModelError when the file no longer matches.
 */
export function takeCheckedBytes(file: string, expected: string): Uint8Array<ArrayBuffer> {
  const recent = recentBytes.get(file);
  recentBytes.delete(file);
  const stamp = stampOf(file);
  const bytes = recent?.stamp === stamp ? recent.bytes : readFileSync(file);
  const actual = recent?.stamp === stamp ? fileHashes.get(file)?.sha256 : sha256(bytes);
  if (actual !== expected)
    throw new ModelError(`${file} changed since it was checked: sha256 is ${actual}, manifest says ${expected}`);
  // Small reads share Node's buffer pool: transferring one would move other bytes too.
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/**
 * The folder of models shipped with the app: models/ at the repository root when running from source
 * (main/inference -> ../../models) and beside the bundle when packaged (dist/app -> ../../models);
 * CVM_MODELS_DIR overrides both.
 */
export function appModelsDir(): string {
  if (process.env.CVM_MODELS_DIR) return path.resolve(process.env.CVM_MODELS_DIR);
  const here = path.dirname(modulePath(import.meta.url));
  return path.resolve(here, '..', '..', 'models');
}

export function modelDirs(dataDir: string | null): ModelDir[] {
  const dirs: ModelDir[] = [{ dir: appModelsDir(), source: 'app' }];
  if (dataDir) dirs.push({ dir: path.join(dataDir, 'models'), source: 'user' });
  return dirs;
}

/** Reads and checks one model folder; throws ModelError naming the file and the problem. */
export function verifyModel(dir: string, source: 'app' | 'user' = 'app'): VerifiedModel {
  const manifestPath = path.join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new ModelError(`${manifestPath} does not exist`);
  const manifestBytes = readFileSync(manifestPath);
  let manifest: ModelManifest;
  try {
    manifest = parseManifest(JSON.parse(manifestBytes.toString('utf8')));
  } catch (error) {
    if (error instanceof SyntaxError) throw new ModelError(`${manifestPath} is not valid JSON: ${error.message}`);
    if (error instanceof ManifestError) throw new ModelError(`${manifestPath}: ${error.message}`);
    throw error;
  }
  const checked = (spec: { file: string; sha256: string }, key: string, what: string): string => {
    const file = path.resolve(dir, spec.file);
    if (path.dirname(file) !== path.resolve(dir))
      throw new ModelError(`${manifestPath}: ${key}.file "${spec.file}" must be a file in the model folder`);
    if (!existsSync(file)) throw new ModelError(`${file} (${what} of model "${manifest.id}") is missing`);
    const actual = fileSha256(file);
    if (actual !== spec.sha256) {
      throw new ModelError(
        `${file} does not match its manifest: sha256 is ${actual}, manifest.json says ${spec.sha256}`,
      );
    }
    return file;
  };
  const files = {
    locate: checked(manifest.stages.locate, 'stages.locate', 'stage locate'),
    refine: checked(manifest.stages.refine, 'stages.refine', 'stage refine'),
    refineMembers: manifest.stages.refine.ensemble.map((m, i) =>
      checked(m, `stages.refine.ensemble[${i}]`, `stage-2 ensemble member ${i + 1}`),
    ),
  };
  let decoding: DecodingParams | null = null;
  if (manifest.decoding) {
    const file = path.resolve(dir, manifest.decoding.file);
    if (path.dirname(file) !== path.resolve(dir))
      throw new ModelError(
        `${manifestPath}: decoding.file "${manifest.decoding.file}" must be a file in the model folder`,
      );
    if (!existsSync(file)) throw new ModelError(`${file} (decoding of model "${manifest.id}") is missing`);
    const bytes = readFileSync(file);
    const actual = sha256(bytes);
    if (actual !== manifest.decoding.sha256)
      throw new ModelError(
        `${file} does not match its manifest: sha256 is ${actual}, manifest.json says ${manifest.decoding.sha256}`,
      );
    try {
      decoding = parseDecoding(JSON.parse(bytes.toString('utf8')), manifest.landmarks);
    } catch (error) {
      if (error instanceof SyntaxError || error instanceof DecodingError)
        throw new ModelError(`${file}: ${error.message}`);
      throw error;
    }
    const used = membersUsed(decoding.testTime);
    if (used > 1 + files.refineMembers.length)
      throw new ModelError(
        `${file}: its test-time passes use ${used} stage-2 networks, manifest.json lists ${1 + files.refineMembers.length} (stages.refine and its ensemble)`,
      );
  }
  return { dir, manifest, manifestSha256: sha256(manifestBytes), files, source, decoding };
}

export interface ModelListing {
  readonly models: readonly VerifiedModel[];
  readonly refused: readonly RefusedModel[];
}

/** Every model folder (a folder holding manifest.json) under the given folders, checked. */
export function findModels(dirs: readonly ModelDir[]): ModelListing {
  const byId = new Map<string, VerifiedModel>();
  const refused: RefusedModel[] = [];
  for (const { dir, source } of dirs) {
    if (!existsSync(dir)) continue;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (error) {
      refused.push({
        dir,
        source,
        reason: `the models folder ${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      });
      continue;
    }
    for (const name of names) {
      const folder = path.join(dir, name);
      // A broken symbolic link, a link loop or an unreadable entry is reported, never fatal.
      let isFolder: boolean;
      let hasManifest: boolean;
      try {
        isFolder = statSync(folder).isDirectory();
        hasManifest = isFolder && existsSync(path.join(folder, 'manifest.json'));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        refused.push({
          dir: folder,
          source,
          reason: `${folder} cannot be read (${code}${code === 'ENOENT' ? ': a broken link?' : ''}); skipped`,
        });
        continue;
      }
      if (!isFolder || !hasManifest) continue;
      // Whole-image models (bone age, radiograph kind) have their own registry: main/inference/whole-image.ts.
      if (isWholeImageModelDir(folder)) continue;
      try {
        const model = verifyModel(folder, source);
        // A user's model with the same id as a shipped one replaces it (folders are scanned app first).
        byId.set(model.manifest.id, model);
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        refused.push({ dir: folder, source, reason: error.message });
      }
    }
  }
  return { models: [...byId.values()].sort((a, b) => a.manifest.id.localeCompare(b.manifest.id)), refused };
}

/** The model with the given id, or the default; a clear error listing what was found otherwise. */
export function pickModel(listing: ModelListing, id?: string): VerifiedModel {
  const wanted = id ?? DEFAULT_MODEL_ID;
  const found =
    listing.models.find((m) => m.manifest.id === wanted) ?? (id === undefined ? listing.models[0] : undefined);
  if (found) return found;
  const refusedHere = listing.refused.filter((r) => path.basename(r.dir) === wanted);
  const known = listing.models.map((m) => m.manifest.id).join(', ') || 'none';
  const why = refusedHere.length > 0 ? ` It was refused: ${refusedHere.map((r) => r.reason).join('; ')}` : '';
  const refusedNote =
    refusedHere.length === 0 && listing.refused.length > 0
      ? ` Refused: ${listing.refused.map((r) => r.reason).join('; ')}`
      : '';
  throw new ModelError(
    id === undefined
      ? `No usable model found (valid models: ${known}).${refusedNote}`
      : `Model "${id}" is not available (valid models: ${known}).${why}${refusedNote}`,
  );
}

/** Resolves a --model argument: a model id, or a path to a model folder. */
export function resolveModel(dirs: readonly ModelDir[], idOrPath?: string): VerifiedModel {
  if (idOrPath && (idOrPath.includes('/') || idOrPath.includes(path.sep)) && existsSync(idOrPath)) {
    return verifyModel(path.resolve(idOrPath), 'user');
  }
  return pickModel(findModels(dirs), idOrPath);
}
