/**
 * The models an installer carries: build/electron-builder.yml's extraResources copied by electron-builder's own
 * file matching and copying code (app-builder-lib, installed with electron-builder), then every shipped model
 * loaded from the copy as the packaged app loads it (CVM_MODELS_DIR = resources/models). A filter that leaves out
 * a file a model needs (as it once left out decoding.json, so an installed app refused its landmark model) fails.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findModels } from '../../main/inference/registry';
import { findWholeImageModels } from '../../main/inference/whole-image';

const ROOT = path.resolve(__dirname, '..', '..');
const require = createRequire(import.meta.url);

interface Matcher {
  readonly from: string;
  readonly to: string;
}
interface FileMatcherModule {
  getFileMatchers(
    config: unknown,
    name: 'extraResources',
    defaultDestination: string,
    options: {
      defaultSrc: string;
      macroExpander: (s: string) => string;
      customBuildOptions: Record<string, unknown>;
      globalOutDir: string;
    },
  ): Matcher[] | null;
  copyFiles(matchers: Matcher[], transformer: null, isUseHardLink: boolean): Promise<unknown>;
}
const { getFileMatchers, copyFiles } = require('app-builder-lib/out/fileMatcher.js') as FileMatcherModule;
const yaml = require('js-yaml') as { load(text: string): unknown };

const resources = mkdtempSync(path.join(os.tmpdir(), 'cvm-resources-'));
afterAll(() => rmSync(resources, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full).map((f) => `${name}/${f}`) : [name];
  });
}

describe('the models an installer carries', () => {
  it('are every shipped model, complete, and none of the training code, runs or fold models', async () => {
    const config = yaml.load(readFileSync(path.join(ROOT, 'build', 'electron-builder.yml'), 'utf8'));
    const matchers = getFileMatchers(config, 'extraResources', resources, {
      defaultSrc: ROOT,
      macroExpander: (s) => s,
      customBuildOptions: {},
      globalOutDir: path.join(ROOT, 'release'),
    });
    const models = matchers?.find((m) => m.from === path.join(ROOT, 'models'));
    expect(models?.to).toBe(path.join(resources, 'models'));
    await copyFiles([models!], null, false);

    const copied = filesUnder(path.join(resources, 'models'));
    expect(copied.filter((f) => /^training\/|\/folds\/|README/.test(f))).toEqual([]);
    expect(copied).toContain('staging/cvm-stage-v1/manifest.json');

    const dirs = [{ dir: path.join(resources, 'models'), source: 'app' as const }];
    const landmarks = findModels(dirs);
    expect(landmarks.refused).toEqual([]);
    const cvm = landmarks.models.find((m) => m.manifest.id === 'cvm13-unet');
    expect(cvm?.decoding).not.toBeNull();
    expect(cvm?.files.refineMembers.length).toBe(cvm?.manifest.stages.refine.ensemble.length);
    const wholeImage = findWholeImageModels(dirs);
    expect(wholeImage.refused).toEqual([]);
    expect(wholeImage.models.map((m) => m.manifest.task).sort()).toEqual(['boneage', 'radiograph-kind']);
    // Every file of every model folder in the repository (folds and training aside) is in the package.
    const shipped = filesUnder(path.join(ROOT, 'models')).filter((f) => !/^training\/|\/folds\/|^README\.md$/.test(f));
    expect(copied.sort()).toEqual(shipped.sort());
  }, 60_000);
});
