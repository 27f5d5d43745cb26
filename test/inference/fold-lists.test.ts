/**
 * `cvm eval --folds` computes "in training" from the fold manifests' training lists (issue #17 item 7): the
 * shipped fold models list their training images, and a fold whose lists contain an image it is evaluated on
 * is reported, not hidden.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const FOLDS = path.join(REPO_ROOT, 'models', 'cvm13-unet', 'folds');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cvm-fold-lists-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface FoldManifest {
  training: { heldOut: string[]; images: string[]; auxiliaryImages: string[] };
}
const readFold = (dir: string): FoldManifest =>
  JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as FoldManifest;

async function evalFolds(
  folds: string,
  annotations: string,
): Promise<{ training: { imagesInTraining: number; note: string } }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'main/cli/index.ts'),
      'eval',
      '--annotations',
      annotations,
      '--folds',
      folds,
      '--json',
    ],
    { cwd: REPO_ROOT, env: { ...process.env, CVM_DISABLE_CUDA: '1' }, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as { training: { imagesInTraining: number; note: string } };
}

describe.skipIf(!existsSync(FOLDS))('fold manifests', () => {
  it('list held-out, training and auxiliary images that are disjoint and cover the data', () => {
    const all = new Set<string>();
    for (const f of ['fold0', 'fold1', 'fold2', 'fold3', 'fold4']) {
      const t = readFold(path.join(FOLDS, f)).training;
      const held = new Set(t.heldOut);
      expect(t.images.length).toBeGreaterThan(40);
      expect(t.images.filter((i) => held.has(i))).toEqual([]);
      expect(t.auxiliaryImages.filter((i) => held.has(i) || t.images.includes(i))).toEqual([]);
      expect(t.heldOut.length + t.images.length).toBe(54);
      t.heldOut.forEach((i) => all.add(i));
    }
    expect(all.size).toBe(54);
  });
});

describe.skipIf(!existsSync(FOLDS) || !HAS_SHARED_DATA)('cvm eval --folds and the training lists', () => {
  it('reports images that a fold model lists as training data, instead of claiming none', async () => {
    const fold = path.join(tmp, 'folds', 'fold0');
    cpSync(path.join(FOLDS, 'fold0'), fold, { recursive: true });
    const m = readFold(fold);
    const ids = m.training.heldOut.slice(0, 2);
    // The annotation file of the two images, with absolute image paths.
    const ann = JSON.parse(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8')) as {
      images: Record<string, { image: string }>;
    };
    const subset = {
      ...ann,
      images: Object.fromEntries(
        ids.map((id) => [id, { ...ann.images[id]!, image: path.resolve(sharedPath('cvm13'), ann.images[id]!.image) }]),
      ),
    };
    const annotations = path.join(tmp, 'annotations.json');
    writeFileSync(annotations, JSON.stringify(subset));
    const clean = await evalFolds(path.join(tmp, 'folds'), annotations);
    expect(clean.training.imagesInTraining).toBe(0);
    // The same fold claiming it trained on the first image: the claim fails.
    writeFileSync(
      path.join(fold, 'manifest.json'),
      JSON.stringify({ ...m, training: { ...m.training, images: [...m.training.images, ids[0]!] } }, null, 2),
    );
    const leaked = await evalFolds(path.join(tmp, 'folds'), annotations);
    expect(leaked.training.imagesInTraining).toBe(1);
    expect(leaked.training.note).toMatch(new RegExp(`cross-validation broken.*${ids[0]!}`));
  }, 300_000);
});
