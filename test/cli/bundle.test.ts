/**
 * `npm run cvm` runs the command line from its esbuild bundle (build/cvm.mjs rebuilds it when the sources
 * are newer), and each command loads only what it needs: `info` neither ONNX Runtime nor SQLite. `cvm info`
 * runs from a CommonJS bundle of its own (dist/cli/info.cjs, compiled with the V8 code cache the build made for
 * it by dist/cli/cvm-info.cjs) through the launchers (dist/cli/cvm.mjs, dist/cli/cvm), and from the ESM bundle
 * when that file is missing; `cvm analyze` likewise from dist/cli/analyze.cjs.
 */
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHER_TUNABLES } from '../../main/cli/launcher-tunables';
import { REPO_ROOT } from '../shared-data';
import { FIXTURES } from '../dicom/helpers';

const run = promisify(execFile);
const LAUNCHER = path.join(REPO_ROOT, 'build', 'cvm.mjs');

interface Meta {
  outputs: Record<
    string,
    { imports: Array<{ path: string; kind: string; external?: boolean }>; inputs: Record<string, unknown> }
  >;
}

/** Every module a chunk loads before its code runs: its static imports, transitively (dynamic ones excluded). */
function staticClosure(meta: Meta, chunk: string): Set<string> {
  const byName = new Map(Object.entries(meta.outputs).map(([name, out]) => [path.basename(name), out]));
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const imp of byName.get(name)?.imports ?? []) {
      if (imp.kind === 'dynamic-import') continue;
      visit(imp.external ? imp.path : path.basename(imp.path));
    }
  };
  visit(chunk);
  return seen;
}

function chunkHolding(meta: Meta, source: string): string {
  const found = Object.entries(meta.outputs).find(([name, out]) => name.endsWith('.mjs') && source in out.inputs);
  if (!found) throw new Error(`no chunk holds ${source}`);
  return path.basename(found[0]);
}

/** A `-r` module that records the CommonJS files a process loaded as it exits, and the reader of that record. */
function loadRecorder(dir: string): { readonly recorder: string; loaded(): string[] } {
  const recorder = path.join(dir, 'record.cjs');
  const record = path.join(dir, 'loaded.json');
  writeFileSync(
    recorder,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(Object.keys(require.cache))));`,
  );
  return { recorder, loaded: () => JSON.parse(readFileSync(record, 'utf8')) as string[] };
}

describe('the cvm bundle', () => {
  let stdout = '';
  beforeAll(async () => {
    // Runs the launcher as `npm run cvm` does (bundling first if the bundle is stale).
    ({ stdout } = await run(
      process.execPath,
      [LAUNCHER, 'info', path.join(FIXTURES, 'ips-magnification.dcm'), '--json'],
      { cwd: REPO_ROOT },
    ));
  }, 120_000);

  it('runs a command from the bundle with the same report as from source', () => {
    expect(JSON.parse(stdout)).toMatchObject({ file: 'ips-magnification.dcm', format: 'dicom', width: 64, height: 48 });
  });

  it('cvm info loads neither ONNX Runtime nor SQLite; analyze and import load only what they need', () => {
    const meta = JSON.parse(readFileSync(path.join(REPO_ROOT, 'dist', 'cli', 'meta.json'), 'utf8')) as Meta;
    const entry = staticClosure(meta, 'cli.mjs');
    const info = staticClosure(meta, chunkHolding(meta, 'main/cli/commands/info.ts'));
    for (const heavy of ['onnxruntime-node', 'better-sqlite3']) {
      expect(entry.has(heavy), `the entry loads ${heavy}`).toBe(false);
      expect(info.has(heavy), `cvm info loads ${heavy}`).toBe(false);
    }
    // analyze: ONNX Runtime is loaded at start by the inference worker alone (dist/cli/inference-worker.cjs), never
    // statically by the main thread (which imports it on first use for the 100x100 radiograph-kind model only);
    // neither are the DICOM parsers, since decoding runs in the decoder worker.
    const analyze = staticClosure(meta, chunkHolding(meta, 'main/cli/commands/analyze.ts'));
    expect(analyze.has('onnxruntime-node'), 'cvm analyze loads onnxruntime-node on the main thread').toBe(false);
    expect(analyze.has('better-sqlite3')).toBe(false);
    const inputsOf = (chunks: Set<string>): string[] =>
      Object.entries(meta.outputs)
        .filter(([name]) => chunks.has(path.basename(name)))
        .flatMap(([, out]) => Object.keys(out.inputs));
    expect(inputsOf(analyze)).toContain('main/services/file-analysis.ts');
    expect(inputsOf(analyze).some((input) => input.includes('dicom-parser'))).toBe(false);
    expect(readFileSync(path.join(REPO_ROOT, 'dist', 'cli', 'inference-worker.cjs'), 'utf8')).toContain(
      'require("onnxruntime-node")',
    );
    expect(staticClosure(meta, chunkHolding(meta, 'main/cli/commands/import.ts')).has('better-sqlite3')).toBe(true);
  });

  it('cvm info on a DICOM file loads no image codec, PNG, JPEG or TIFF decoder, zlib or fs/promises', () => {
    const meta = JSON.parse(readFileSync(path.join(REPO_ROOT, 'dist', 'cli', 'meta.json'), 'utf8')) as Meta;
    // What `cvm info` loads to summarise a DICOM file: the command, the file service, the DICOM summary.
    const chunks = new Set(
      ['main/cli/commands/info.ts', 'main/services/files.ts', 'main/dicom/native-summary.ts'].flatMap((source) => [
        ...staticClosure(meta, chunkHolding(meta, source)),
      ]),
    );
    const inputs = Object.entries(meta.outputs)
      .filter(([name]) => chunks.has(path.basename(name)))
      .flatMap(([, out]) => Object.keys(out.inputs));
    expect(inputs).toContain('main/dicom/pixels.ts');
    for (const lazy of [
      'main/dicom/native-codecs.ts',
      'main/dicom/jpeg-grey.ts',
      'main/dicom/raster.ts',
      'main/dicom/tiff.ts',
    ])
      expect(inputs, `cvm info loads ${lazy} at start`).not.toContain(lazy);
    expect(inputs.some((input) => input.includes('fast-png') || input.includes('fflate'))).toBe(false);
    // Imported as the chunks load (a require() inside a function, as in the lazy zlib below, runs on first use).
    const imported = Object.entries(meta.outputs)
      .filter(([name]) => chunks.has(path.basename(name)))
      .flatMap(([, out]) => out.imports.filter((imp) => imp.kind === 'import-statement').map((imp) => imp.path));
    expect(imported).toContain('node:fs');
    for (const builtin of ['node:zlib', 'zlib', 'node:fs/promises', 'node:worker_threads'])
      expect(imported, `cvm info loads ${builtin} at start`).not.toContain(builtin);
    // dicom-parser's own require("zlib") is given a zlib loaded on first use (build/bundle-common.mjs).
    expect(inputs).toContain('lazy-zlib:zlib');
  });

  it('cvm info runs from its CommonJS bundle, which holds no ONNX Runtime, SQLite or codec package', async () => {
    const cli = path.join(REPO_ROOT, 'dist', 'cli');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-info-entry-'));
    try {
      const { recorder, loaded } = loadRecorder(dir);
      const dicom = path.join(FIXTURES, 'ips-magnification.dcm');
      // `cvm info --json` through the launcher in `cliDir`: its output and the CommonJS files it loaded.
      const infoThrough = async (cliDir: string): Promise<{ json: unknown; files: string[] }> => {
        const { stdout: out } = await run(process.execPath, [
          '-r',
          recorder,
          path.join(cliDir, 'cvm.mjs'),
          'info',
          dicom,
          '--json',
        ]);
        return { json: JSON.parse(out), files: loaded() };
      };
      const { json: fast, files } = await infoThrough(cli);
      expect(fast).toEqual(JSON.parse(stdout));
      expect(files).toContain(path.join(cli, 'cvm-info.cjs'));
      for (const heavy of ['onnxruntime-node', 'better-sqlite3', '@cornerstonejs', 'dcmjs-imaging'])
        expect(
          files.some((f) => f.includes(heavy)),
          `cvm info loads ${heavy}`,
        ).toBe(false);
      const meta = JSON.parse(readFileSync(path.join(cli, 'info-meta.json'), 'utf8')) as Meta;
      const [bundle] = Object.values(meta.outputs).filter((out) => 'main/cli/commands/info.ts' in out.inputs);
      expect(bundle).toBeDefined();
      const external = (bundle?.imports ?? []).filter((imp) => imp.external).map((imp) => imp.path);
      for (const heavy of ['onnxruntime-node', 'better-sqlite3']) expect(external).not.toContain(heavy);
      // Without info.cjs the launcher runs the same command from the ESM bundle.
      const copy = path.join(dir, 'cli');
      cpSync(cli, copy, { recursive: true });
      rmSync(path.join(copy, 'info.cjs'));
      const esm = await infoThrough(copy);
      expect(esm.json).toEqual(JSON.parse(stdout));
      expect(esm.files).not.toContain(path.join(copy, 'cvm-info.cjs'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('cvm analyze runs from its CommonJS bundle, with the result the ESM bundle gives', async () => {
    const cli = path.join(REPO_ROOT, 'dist', 'cli');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-analyze-entry-'));
    try {
      const { recorder, loaded } = loadRecorder(dir);
      const image = path.join(FIXTURES, 'mono2.dcm');
      // The result line of `cvm analyze --json` through the launcher in `cliDir`, without its timings, and the
      // CommonJS files the process loaded.
      const analyzeThrough = async (cliDir: string): Promise<{ result: unknown; files: string[] }> => {
        const { stdout: out } = await run(
          process.execPath,
          ['-r', recorder, path.join(cliDir, 'cvm.mjs'), 'analyze', image, '--json'],
          // A copy outside the checkout finds the shipped models only by the variable.
          { env: { ...process.env, CVM_MODELS_DIR: path.join(REPO_ROOT, 'models') } },
        );
        const line = out.split('\n').find((l) => l.includes('"type":"result"'));
        if (!line) throw new Error(`no result line in ${out}`);
        const result = JSON.parse(line, (key, value: unknown) => (/timings|ms$/i.test(key) ? null : value)) as unknown;
        return { result, files: loaded() };
      };
      const cjs = await analyzeThrough(cli);
      expect(cjs.files).toContain(path.join(cli, 'analyze.cjs'));
      expect(cjs.files.some((f) => f.endsWith('cli.mjs'))).toBe(false);
      // Without analyze.cjs the launcher runs the same command from the ESM bundle. The copy finds the installed
      // packages (onnxruntime-node, better-sqlite3) through a link beside it, as dist/cli does in the checkout.
      const copy = path.join(dir, 'cli');
      cpSync(cli, copy, { recursive: true });
      symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      rmSync(path.join(copy, 'analyze.cjs'));
      const esm = await analyzeThrough(copy);
      expect(esm.files).not.toContain(path.join(copy, 'analyze.cjs'));
      expect(cjs.result).toEqual(esm.result);
      expect(cjs.result).toMatchObject({ type: 'result', file: image });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('cvm info compiles its bundle from the code cache the build made, and runs the same without it', async () => {
    const cli = path.join(REPO_ROOT, 'dist', 'cli');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-info-cache-'));
    try {
      // Records, as the process exits, whether V8 took or refused the cache given for each script compiled.
      const recorder = path.join(dir, 'record.cjs');
      const compiled = path.join(dir, 'compiled.json');
      writeFileSync(
        recorder,
        `const vm = require('node:vm'); const Original = vm.Script; const seen = [];
         vm.Script = class extends Original { constructor(source, options) { super(source, options);
           seen.push({ file: options && options.filename, given: Boolean(options && options.cachedData),
             rejected: this.cachedDataRejected === true }); } };
         process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(compiled)}, JSON.stringify(seen)));`,
      );
      const dicom = path.join(FIXTURES, 'ips-magnification.dcm');
      const infoThrough = async (cliDir: string) => {
        const { stdout: out } = await run(process.execPath, [
          '-r',
          recorder,
          path.join(cliDir, 'cvm-info.cjs'),
          'info',
          dicom,
          '--json',
        ]);
        const [script] = JSON.parse(readFileSync(compiled, 'utf8')) as Array<{
          file: string;
          given: boolean;
          rejected: boolean;
        }>;
        return { json: JSON.parse(out) as unknown, script };
      };
      const cached = await infoThrough(cli);
      expect(cached.json).toEqual(JSON.parse(stdout));
      expect(cached.script).toEqual({ file: path.join(cli, 'info.cjs'), given: true, rejected: false });
      // A cache V8 refuses (another Node's, damaged), none at all, or a bundle changed since the build (its cache is
      // named after the bundle file's size and time): compiled from the source, the same report.
      const [cacheName] = readdirSync(cli).filter((name) => name.endsWith('.v8-cache'));
      const built = statSync(path.join(cli, 'info.cjs'));
      expect(cacheName).toBe(`info.cjs.${built.size}-${Math.floor(built.mtimeMs / 1000)}.v8-cache`);
      // The copy's times differ (a copy rounds them): its cache takes the name the launcher will look for.
      const copy = path.join(dir, 'cli');
      cpSync(cli, copy, { recursive: true });
      const copied = statSync(path.join(copy, 'info.cjs'));
      const cacheFile = path.join(copy, `info.cjs.${copied.size}-${Math.floor(copied.mtimeMs / 1000)}.v8-cache`);
      renameSync(path.join(copy, cacheName ?? ''), cacheFile);
      const renamed = await infoThrough(copy);
      expect(renamed.script).toMatchObject({ given: true, rejected: false });
      writeFileSync(cacheFile, Buffer.from('not a code cache of this bundle'));
      const damaged = await infoThrough(copy);
      expect(damaged.json).toEqual(JSON.parse(stdout));
      expect(damaged.script).toMatchObject({ given: true, rejected: true });
      cpSync(path.join(cli, cacheName ?? ''), cacheFile);
      appendFileSync(path.join(copy, 'info.cjs'), '// changed after the build\n');
      const changed = await infoThrough(copy);
      expect(changed.json).toEqual(JSON.parse(stdout));
      expect(changed.script).toMatchObject({ given: false });
      rmSync(cacheFile);
      const none = await infoThrough(copy);
      expect(none.json).toEqual(JSON.parse(stdout));
      expect(none.script).toMatchObject({ given: false, rejected: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  describe.skipIf(process.platform === 'win32')('dist/cli/cvm, the launcher that gives malloc huge pages', () => {
    const launcher = path.join(REPO_ROOT, 'dist', 'cli', 'cvm');

    it('runs a command with the same report as the Node entry', async () => {
      const { stdout: out } = await run(launcher, ['info', path.join(FIXTURES, 'ips-magnification.dcm'), '--json']);
      expect(JSON.parse(out)).toEqual(JSON.parse(stdout));
    });

    it("adds its malloc tunables to the caller's GLIBC_TUNABLES, keeps each one the caller chose, drops NODE_EXTRA_CA_CERTS but for pacs, passes the arguments whole", async () => {
      // The launcher itself, beside a cvm.mjs that prints what the started Node process was given.
      const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-launcher-'));
      try {
        cpSync(launcher, path.join(dir, 'cvm'));
        writeFileSync(
          path.join(dir, 'cvm.mjs'),
          'const e = process.env; console.log(JSON.stringify({ tunables: e.GLIBC_TUNABLES ?? null, ca: e.NODE_EXTRA_CA_CERTS ?? null, args: process.argv.slice(2) }));',
        );
        type Given = { entry?: string; tunables: string | null; ca: string | null; args: string[] };
        const given = async (tunables: string | undefined, args = ['info', 'a file.dcm', '--json']): Promise<Given> => {
          const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, 'proxy-ca.pem') };
          if (tunables === undefined) delete env.GLIBC_TUNABLES;
          else env.GLIBC_TUNABLES = tunables;
          const { stdout: out } = await run(path.join(dir, 'cvm'), args, { env });
          return JSON.parse(out) as Given;
        };
        // Only `cvm pacs` makes TLS connections: the others start without the extra CA bundle Node would read.
        expect(await given(undefined)).toEqual({
          tunables: LAUNCHER_TUNABLES.join(':'),
          ca: null,
          args: ['info', 'a file.dcm', '--json'],
        });
        expect((await given(undefined, ['pacs', 'query'])).ca).toBe(path.join(dir, 'proxy-ca.pem'));
        expect((await given('glibc.malloc.arena_max=2')).tunables).toBe(
          'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.top_pad=16777216',
        );
        expect((await given('glibc.malloc.hugetlb=0:glibc.cpu.x86_rep_movsb_threshold=4096')).tunables).toBe(
          'glibc.malloc.hugetlb=0:glibc.cpu.x86_rep_movsb_threshold=4096:glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.top_pad=16777216',
        );
        expect(
          (
            await given(
              'glibc.malloc.hugetlb=2:glibc.malloc.arena_max=4:glibc.malloc.mmap_threshold=1048576:glibc.malloc.top_pad=0',
            )
          ).tunables,
        ).toBe(
          'glibc.malloc.hugetlb=2:glibc.malloc.arena_max=4:glibc.malloc.mmap_threshold=1048576:glibc.malloc.top_pad=0',
        );
        // With info.cjs beside it, `info` starts the CommonJS launcher directly (no ESM entry); the rest cvm.mjs.
        writeFileSync(path.join(dir, 'info.cjs'), '');
        writeFileSync(
          path.join(dir, 'cvm-info.cjs'),
          'console.log(JSON.stringify({ entry: "cvm-info.cjs", tunables: process.env.GLIBC_TUNABLES ?? null, ca: process.env.NODE_EXTRA_CA_CERTS ?? null, args: process.argv.slice(2) }));',
        );
        expect(await given(undefined)).toEqual({
          entry: 'cvm-info.cjs',
          tunables: LAUNCHER_TUNABLES.join(':'),
          ca: null,
          args: ['info', 'a file.dcm', '--json'],
        });
        expect(await given(undefined, ['analyze', 'x.dcm'])).not.toHaveProperty('entry');
        // With analyze.cjs beside it, `analyze` starts that bundle directly.
        writeFileSync(
          path.join(dir, 'analyze.cjs'),
          'console.log(JSON.stringify({ entry: "analyze.cjs", tunables: process.env.GLIBC_TUNABLES ?? null, ca: process.env.NODE_EXTRA_CA_CERTS ?? null, args: process.argv.slice(2) }));',
        );
        expect(await given(undefined, ['analyze', 'x.dcm', '--json'])).toEqual({
          entry: 'analyze.cjs',
          tunables: LAUNCHER_TUNABLES.join(':'),
          ca: null,
          args: ['analyze', 'x.dcm', '--json'],
        });
        expect(await given(undefined, ['eval', 'x.json'])).not.toHaveProperty('entry');
        expect((await given('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2')).tunables).toBe(
          'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2:glibc.malloc.mmap_threshold=33554432:glibc.malloc.top_pad=16777216',
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('npm run cvm passes the exit code of the command through', async () => {
      const failed = await run(process.execPath, [LAUNCHER, 'info', path.join(os.tmpdir(), 'no-such-file.dcm')], {
        cwd: REPO_ROOT,
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/no-such-file\.dcm: the file does not exist/);
    });
  });
});
