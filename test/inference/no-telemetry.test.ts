/**
 * ONNX Runtime (since 1.29, on Linux and macOS) keeps a device identifier and an offline telemetry cache in the
 * user's cache folder and uploads them when it can; main/inference/ort-telemetry.ts switches that off. Each
 * command runs in a fresh process whose HOME and XDG_CACHE_HOME are empty folders and whose environment lacks
 * the variable, through the command line as a user starts it; afterwards nothing may be in those folders. The
 * control loads onnxruntime-node without the workstation's module: the runtime then writes its files there, so
 * the check sees them when they are written.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const run = promisify(execFile);
const LAUNCHER = path.join(REPO_ROOT, 'build', 'cvm.mjs');
const folders: string[] = [];

afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A user's environment: only PATH, with an empty home and cache folder. Not the test runner's: ONNX Runtime
 * sends nothing where it sees a CI variable (CI, GITHUB_ACTIONS, JENKINS_URL, TF_BUILD, …), and the telemetry
 * variable must be absent for the check to mean anything.
 */
function freshHome(): { env: NodeJS.ProcessEnv; home: string } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'cvm-home-'));
  folders.push(home);
  return { env: { PATH: process.env.PATH, HOME: home, XDG_CACHE_HOME: path.join(home, 'cache') }, home };
}

/** Every path under the folder, relative to it. */
function written(home: string): string[] {
  return readdirSync(home, { recursive: true, encoding: 'utf8' }).sort();
}

/** The project's TypeScript sources outside node_modules and dist. */
function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => /\.(ts|mts|tsx)$/.test(p) && !/(^|\/)(node_modules|dist)\//.test(p))
    .map((p) => path.join(dir, p));
}

/** A command run as `npm run cvm` does, in a fresh home; what it wrote there afterwards. */
async function cvmInFreshHome(args: string[]): Promise<{ stdout: string; files: string[] }> {
  const { env, home } = freshHome();
  const { stdout } = await run(process.execPath, [LAUNCHER, ...args], { cwd: REPO_ROOT, env });
  return { stdout, files: written(home) };
}

describe("ONNX Runtime's telemetry", () => {
  it('is switched off before every module that loads onnxruntime-node loads it', () => {
    const loadsOrt =
      /^import (?!type\b).*from 'onnxruntime-node'|import\('onnxruntime-node'\)|\('onnxruntime-node\/dist/m;
    const offFirst = /^import '[^']*\/ort-telemetry';/m;
    const files = ['main', 'test', 'models/training'].flatMap((d) => sources(path.join(REPO_ROOT, d)));
    const loaders = files.filter((f) => loadsOrt.test(readFileSync(f, 'utf8')));
    expect(loaders.length).toBeGreaterThanOrEqual(6);
    const late = loaders.filter((f) => {
      const text = readFileSync(f, 'utf8');
      const off = offFirst.exec(text);
      return off === null || off.index > (loadsOrt.exec(text)?.index ?? 0);
    });
    expect(late.map((f) => path.relative(REPO_ROOT, f))).toEqual([]);
  });

  it('is written by onnxruntime-node loaded on its own (the control: the check sees it)', async () => {
    const { env, home } = freshHome();
    const script = `require('onnxruntime-node').InferenceSession.create(${JSON.stringify(
      path.join(REPO_ROOT, 'models', 'radiograph-kind', 'kind.onnx'),
    )}).then(() => process.exit(0))`;
    await run(process.execPath, ['-e', script], { cwd: REPO_ROOT, env });
    // If a later ONNX Runtime stops writing here, this control fails: look again at what it does before
    // trusting the tests below.
    expect(written(home).some((p) => p.includes('onnxruntime'))).toBe(true);
  }, 60_000);

  it.skipIf(!HAS_SHARED_DATA)(
    'is not written by cvm analyze (the landmark model and the radiograph-kind model in the landmark worker)',
    async () => {
      const { stdout, files } = await cvmInFreshHome([
        'analyze',
        sharedPath('isbi2015', 'images', '001.jpg'),
        '--json',
      ]);
      expect(stdout).toContain('"type":"result"'); // the networks ran
      expect(files).toEqual([]);
    },
    120_000,
  );

  it.skipIf(!HAS_SHARED_DATA)(
    'is not written by cvm boneage (the whole-image worker)',
    async () => {
      const hand = sharedPath('boneage', 'rsna-sample', '14931.png');
      const { stdout, files } = await cvmInFreshHome(['boneage', hand, '--sex', 'male', '--json']);
      expect(stdout).toMatch(/boneAgeMonths|months/i); // the network ran
      expect(files).toEqual([]);
    },
    120_000,
  );
});
