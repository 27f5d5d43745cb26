/**
 * `cvm bench --only startup`: what a user waits for first.
 * - `cvm info` on a 9.6 MB DICOM (2000x2400, 16-bit, written here) as a new process from the CLI bundle,
 *   beside dcmtk's `dcmdump` on the same file when it is installed (runs interleaved; wall and CPU medians).
 * - `cvm analyze` of one JPEG as a new process (cold) against the warm per-file time in one process
 *   ((6 files - 1 file) / 5), when ../shared/data and the shipped model are present.
 * - A stored JPEG 2000 study opened again: decoding the stored file against reading its derived pixel copy.
 * - The ISBI JPEG decoded in process beside libjpeg-turbo's `djpeg -grayscale` as a process, when installed.
 * Processes are started directly, not through npm (whose own start-up is ~0.3 s): through the launcher
 * dist/cli/cvm (glibc's malloc set for fresh memory, build/cli-launcher.sh) where there is one, else node
 * dist/cli/cvm.mjs. The native tools run as installed: without the launcher's GLIBC_TUNABLES settings.
 */
import { median } from '../../../core/metrics/index';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeDecoderWorker } from '../../dicom/decoder-pool';
import { decodeImageFile } from '../../dicom/index';
import { el, writeDicom } from '../../dicom/writer';
import {
  closeStudyStores,
  decodeParallelism,
  importFile,
  importFiles,
  loadImagePixels,
  storeFor,
} from '../../services/studies';
import type { BenchFigure } from '../command';
import { LAUNCHER_TUNABLES } from '../launcher-tunables';
import { progressLine } from '../progress';
import type { BenchArea } from './index';
import { greyImageModule } from './measure';
import { REPO_ROOT, SHARED_DATA } from './paths';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'cvm.mjs');
const LAUNCHER = path.join(REPO_ROOT, 'dist', 'cli', 'cvm');
const ISBI_JPEG = path.join(SHARED_DATA, 'isbi2015', 'images', '001.jpg');
const RG2_J2K = path.join(SHARED_DATA, 'dicom', 'wg04-cr', 'RG2_J2KR.dcm');

/**
 * Node reads the CA bundle named by NODE_EXTRA_CA_CERTS at every start, whether or not the program makes a TLS
 * connection (40-50 ms here, `node -e 0` included); this project's development machines set it for their npm
 * proxy, a clinic's PC does not. The command line makes no network connection, so where it is set the bench
 * also measures the processes without it, and says which figure is which.
 */
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS ? 'NODE_EXTRA_CA_CERTS' : null;

function withoutExtraCa(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Whether this process's glibc malloc was started as the launcher starts it (or the caller set the same). */
const tunablesHere = (process.env.GLIBC_TUNABLES ?? '').split(':');
const launcherMallocHere = LAUNCHER_TUNABLES.every((t) => tunablesHere.includes(t));

/** How the figures measured in this process were allocated (those of the new processes: see runCvm). */
const MALLOC_HERE = launcherMallocHere
  ? `this process's malloc as dist/cli/cvm sets it (${LAUNCHER_TUNABLES.join(':')})`
  : `this process's malloc not as dist/cli/cvm sets it (started without ${LAUNCHER_TUNABLES.join(':')}: not through npm run cvm or dist/cli/cvm)`;

/** dcmdump and djpeg as a user runs them: GLIBC_TUNABLES without the launcher's settings. */
function nativeToolEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  const launcherSet: readonly string[] = LAUNCHER_TUNABLES;
  const rest = (env.GLIBC_TUNABLES ?? '').split(':').filter((t) => t !== '' && !launcherSet.includes(t));
  if (rest.length > 0) env.GLIBC_TUNABLES = rest.join(':');
  else delete env.GLIBC_TUNABLES;
  return env;
}

/** Wall time and the child's CPU time (user + system, from the shell's `times`), in ms. */
function runProcess(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { wallMs: number; cpuMs: number; ok: boolean } {
  const start = performance.now();
  const result = spawnSync('sh', ['-c', '"$0" "$@" >/dev/null 2>&1; code=$?; times; exit $code', command, ...args], {
    encoding: 'utf8',
    env,
  });
  const wallMs = performance.now() - start;
  // `times` prints the shell's own times, then its children's: "0m0.290s 0m0.050s".
  const lines = result.stdout.trim().split('\n');
  const children = (lines.at(-1) ?? '').match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  const cpuMs = children
    ? (Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4])) * 1000
    : Number.NaN;
  return { wallMs, cpuMs, ok: result.status === 0 };
}

function launcherInUse(): boolean {
  return process.platform !== 'win32' && existsSync(LAUNCHER);
}

/** A `cvm` command as a new process: through the launcher where it exists (not on Windows), else Node directly. */
function runCvm(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { wallMs: number; cpuMs: number } {
  return launcherInUse() ? runProcess(LAUNCHER, args, env) : runProcess(process.execPath, [CLI, ...args], env);
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** A 2000x2400 16-bit explicit VR little endian DICOM (9.6 MB), smooth with noise, like a radiograph. */
function tenMegabyteDicom(file: string): void {
  const width = 2000;
  const height = 2400;
  const pixels = new Uint16Array(width * height);
  let seed = 11;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      pixels[y * width + x] = 8000 + Math.round(20000 * Math.sin(x / 300) * Math.cos(y / 400)) + 20000 + (seed & 63);
    }
  }
  const bytes = writeDicom(
    [
      el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
      el(0x0008, 0x0018, 'UI', '1.2.826.0.1.3680043.10.3.2'),
      el(0x0008, 0x0060, 'CS', 'CR'),
      el(0x0010, 0x0010, 'PN', 'Bench^Info'),
      ...greyImageModule(width, height, 16),
      el(0x7fe0, 0x0010, 'OW', new Uint8Array(pixels.buffer)),
    ],
    { encoding: 'explicit-le' },
  );
  writeFileSync(file, bytes);
}

export const startupBench: BenchArea = {
  area: 'startup',
  async run({ quick }) {
    const figures: BenchFigure[] = [];
    // The 1-minute load average when the figure was taken: on a shared machine the ratios of interleaved runs
    // are the guide, and the load says how far the absolute times are from an idle machine's.
    const oneMinuteLoad = (): string => {
      const [load] = os.loadavg();
      return load === undefined ? 'unknown' : load.toFixed(1);
    };
    const add = (name: string, ms: number, runs: number, note: string) =>
      figures.push({ area: 'startup', name, medianMs: ms, runs, note: `${note}; load ${oneMinuteLoad()}` });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-bench-startup-'));
    const runs = quick ? 3 : 7;
    // The launcher starts every command but `cvm pacs` without NODE_EXTRA_CA_CERTS: then a cvm process has no
    // second figure without it.
    const cvmExtraCa = launcherInUse() ? null : EXTRA_CA;
    const cvmEnvironment = launcherInUse()
      ? EXTRA_CA
        ? `started by dist/cli/cvm, which leaves ${EXTRA_CA} out (only cvm pacs makes TLS connections)`
        : 'started by dist/cli/cvm'
      : EXTRA_CA
        ? `this environment, whose ${EXTRA_CA} Node reads at start`
        : 'NODE_EXTRA_CA_CERTS not set';
    try {
      if (!existsSync(CLI)) {
        add(
          'cvm info (bundle)',
          Number.NaN,
          0,
          `${CLI} is missing: run npm run build (or any npm run cvm command) first`,
        );
        return figures;
      }
      // ---- cvm info beside dcmdump ----
      progressLine('startup: cvm info beside dcmdump');
      const dicom = path.join(dir, 'ten-megabytes.dcm');
      tenMegabyteDicom(dicom);
      const withDcmdump = hasTool('dcmdump');
      const clean = withoutExtraCa();
      const info: Array<{ wallMs: number; cpuMs: number }> = [];
      const infoClean: Array<{ wallMs: number; cpuMs: number }> = [];
      const dump: Array<{ wallMs: number; cpuMs: number }> = [];
      for (let i = 0; i < runs + 1; i++) {
        const a = runCvm(['info', dicom]);
        const c = cvmExtraCa ? runCvm(['info', dicom], clean) : null;
        const b = withDcmdump ? runProcess('dcmdump', [dicom], nativeToolEnv()) : null;
        if (i === 0) continue; // first run: file cache
        info.push(a);
        if (c) infoClean.push(c);
        if (b) dump.push(b);
      }
      const dumpWall = withDcmdump ? median(dump.map((r) => r.wallMs)) : Number.NaN;
      const dumpCpu = withDcmdump ? median(dump.map((r) => r.cpuMs)) : Number.NaN;
      const infoFigure = (name: string, runsOf: Array<{ wallMs: number; cpuMs: number }>, how: string): void => {
        const wall = median(runsOf.map((r) => r.wallMs));
        const cpu = median(runsOf.map((r) => r.cpuMs));
        const versus = withDcmdump
          ? `x${(wall / dumpWall).toFixed(2)} of dcmdump (wall), x${(cpu / dumpCpu).toFixed(2)} (CPU)`
          : 'dcmdump is not installed (apt-get install dcmtk), so no comparison';
        add(name, wall, runs, `CPU ${cpu.toFixed(0)} ms; ${versus}; ${how}`);
      };
      infoFigure('cvm info, 9.6 MB DICOM (new process)', info, cvmEnvironment);
      if (cvmExtraCa)
        infoFigure(
          `cvm info, 9.6 MB DICOM, without ${cvmExtraCa} (as on a clinic's PC)`,
          infoClean,
          'the same runs interleaved, the variable removed from the environment',
        );
      if (withDcmdump)
        add(
          'dcmdump, same file',
          dumpWall,
          runs,
          `CPU ${dumpCpu.toFixed(0)} ms; dcmtk, runs interleaved with cvm info`,
        );
      const nodeOnly = median(Array.from({ length: runs }, () => runProcess(process.execPath, ['-e', '0']).wallMs));
      add('node -e 0 (the floor of any node command)', nodeOnly, runs, 'process start of node itself');
      if (EXTRA_CA) {
        const nodeClean = median(
          Array.from({ length: runs }, () => runProcess(process.execPath, ['-e', '0'], clean).wallMs),
        );
        add(`node -e 0, without ${EXTRA_CA}`, nodeClean, runs, 'process start of node itself');
      }

      // ---- cold analyze against warm per file ----
      if (existsSync(ISBI_JPEG) && existsSync(path.join(REPO_ROOT, 'models', 'cvm13-unet', 'manifest.json'))) {
        progressLine('startup: cold cvm analyze against warm per-file');
        const six = Array.from({ length: 6 }, (_, i) => {
          const file = path.join(dir, `ceph-${i}.jpg`);
          copyFileSync(ISBI_JPEG, file);
          return file;
        });
        const [firstOfSix] = six;
        if (firstOfSix === undefined) throw new Error('no copy of the ISBI image was made');
        const cold: number[] = [];
        const coldClean: number[] = [];
        const batch: number[] = [];
        // Seven rounds: the warm figure is a difference of two processes' times, and with three the ratio moved
        // between x3.0 and x4.1 from one bench to the next on this 2-core machine.
        const analyzeRuns = quick ? 1 : 7;
        const analyze = (files: readonly string[], env?: NodeJS.ProcessEnv): number =>
          runCvm(['analyze', ...files, '--spacing', '0.1', '--json'], env).wallMs;
        for (let i = 0; i < analyzeRuns; i++) {
          cold.push(analyze([firstOfSix]));
          batch.push(analyze(six));
          if (cvmExtraCa) coldClean.push(analyze([firstOfSix], withoutExtraCa()));
        }
        const coldMs = median(cold);
        const warmPerFile = (median(batch) - coldMs) / 5;
        add(
          'cvm analyze, one 1935x2400 JPEG, cold (new process)',
          coldMs,
          analyzeRuns,
          `x${(coldMs / warmPerFile).toFixed(2)} of the warm per-file time; ${cvmEnvironment}`,
        );
        if (cvmExtraCa) {
          // The warm per-file time is a difference of two processes, so it does not change without the variable.
          const coldCleanMs = median(coldClean);
          add(
            `cvm analyze, cold, without ${cvmExtraCa} (as on a clinic's PC)`,
            coldCleanMs,
            analyzeRuns,
            `x${(coldCleanMs / warmPerFile).toFixed(2)} of the warm per-file time`,
          );
        }
        add(
          'cvm analyze, warm per file',
          warmPerFile,
          analyzeRuns,
          '(6 files - 1 file) / 5, each a new process; runs interleaved',
        );
      }

      // ---- a stored JPEG 2000 study opened again ----
      if (existsSync(RG2_J2K)) {
        progressLine('startup: stored JPEG 2000 study opened again');
        const dataDir = path.join(dir, 'data');
        const ctx = { dataDir, mode: 'cli' as const };
        const bytes = readFileSync(RG2_J2K);
        const imported = await importFile(storeFor(ctx), 'RG2_J2KR.dcm', bytes, { author: 'bench' });
        if (!imported.ok) throw new Error(imported.error.message);
        const open: number[] = [];
        const decode: number[] = [];
        const openCpu: number[] = [];
        const decodeCpu: number[] = [];
        for (let i = 0; i < runs; i++) {
          closeStudyStores(); // as a new session: nothing in memory
          const store = storeFor(ctx);
          let t = performance.now();
          let cpu = process.cpuUsage();
          await loadImagePixels(store, imported.imageId);
          open.push(performance.now() - t);
          openCpu.push(cpuMsSince(cpu));
          t = performance.now();
          cpu = process.cpuUsage();
          await decodeImageFile('RG2_J2KR.dcm', bytes);
          decode.push(performance.now() - t);
          decodeCpu.push(cpuMsSince(cpu));
        }
        closeStudyStores();
        add(
          'stored JPEG 2000 study opened again (to pixels)',
          median(open),
          runs,
          `CPU ${median(openCpu).toFixed(0)} ms; derived pixel copy, hash-checked; decoding the stored file instead: ${median(decode).toFixed(0)} ms, CPU ${median(decodeCpu).toFixed(0)} ms`,
        );
      }

      // ---- JPEG decode beside djpeg -grayscale ----
      if (existsSync(ISBI_JPEG)) {
        progressLine('startup: JPEG decode beside djpeg -grayscale');
        const jpeg = readFileSync(ISBI_JPEG);
        await decodeImageFile('001.jpg', jpeg);
        const ours: number[] = [];
        const oursCpu: number[] = [];
        const djpeg: number[] = [];
        const djpegCpu: number[] = [];
        const withDjpeg = hasTool('djpeg');
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          const cpu = process.cpuUsage();
          await decodeImageFile('001.jpg', jpeg);
          ours.push(performance.now() - t);
          oursCpu.push(cpuMsSince(cpu));
          if (withDjpeg) {
            const r = runProcess('djpeg', ['-grayscale', '-outfile', '/dev/null', ISBI_JPEG], nativeToolEnv());
            djpeg.push(r.wallMs);
            djpegCpu.push(r.cpuMs);
          }
        }
        const oursMs = median(ours);
        if (withDjpeg) {
          const spawnFloor = median(Array.from({ length: runs }, () => runProcess('true', []).wallMs));
          const djpegMs = median(djpeg);
          add(
            'JPEG 1935x2400 to grey pixels (in process)',
            oursMs,
            runs,
            `CPU ${median(oursCpu).toFixed(0)} ms; x${(oursMs / djpegMs).toFixed(2)} of djpeg -grayscale as a process (${djpegMs.toFixed(0)} ms, CPU ${median(djpegCpu).toFixed(0)} ms), x${(oursMs / Math.max(1, djpegMs - spawnFloor)).toFixed(2)} of it less process start (${spawnFloor.toFixed(0)} ms); ${MALLOC_HERE}`,
          );
        } else {
          add(
            'JPEG 1935x2400 to grey pixels (in process)',
            oursMs,
            runs,
            'djpeg is not installed (apt-get install libjpeg-turbo-progs), so no comparison',
          );
        }
        // What a decode's new 16-bit output array costs before any pixel is decoded into it: the first touch
        // of fresh memory (page faults), against writing the same array again. On a machine where faults are
        // slow (a virtual machine whose host backs guest memory lazily) this is most of the decode above.
        const fresh: number[] = [];
        const again: number[] = [];
        for (let i = 0; i < runs; i++) {
          let t = performance.now();
          const array = new Uint16Array(1935 * 2400).fill(1);
          fresh.push(performance.now() - t);
          t = performance.now();
          array.fill(2);
          again.push(performance.now() - t);
        }
        add(
          'a new 9.3 MB array (the 16-bit output of that JPEG), written once',
          median(fresh),
          runs,
          `first touch of fresh memory; the same array written again: ${median(again).toFixed(1)} ms; ${MALLOC_HERE}`,
        );
      }
      // ---- a batch import: one decoder worker against the pool (#14.4) ----
      const batch = Array.from({ length: 6 }, (_, i) =>
        path.join(SHARED_DATA, 'isbi2015', 'images', `${String(i + 1).padStart(3, '0')}.jpg`),
      ).filter((f) => existsSync(f));
      if (batch.length === 6) {
        progressLine('startup: batch import, one decoder worker against the pool');
        const parallel = decodeParallelism();
        const one: number[] = [];
        const many: number[] = [];
        const importBatch = async (width: number, round: number): Promise<number> => {
          const ctx = { dataDir: path.join(dir, `batch-${width}-${round}`), mode: 'cli' as const };
          const t = performance.now();
          const results = await importFiles(
            storeFor(ctx),
            batch.map((f) => ({ name: path.basename(f), path: f })),
            { author: 'bench' },
            () => {},
            width,
          );
          const ms = performance.now() - t;
          if (results.some((r) => !r.ok)) throw new Error('the batch import failed');
          return ms;
        };
        await importBatch(parallel, -1); // workers started and code warm for both
        for (let i = 0; i < (quick ? 1 : 3); i++) {
          one.push(await importBatch(1, i));
          many.push(await importBatch(parallel, i));
        }
        add(
          `import 6 JPEG cephalograms, ${parallel} files decoded at once`,
          median(many),
          many.length,
          `x${(median(one) / median(many)).toFixed(2)} faster than one at a time (${median(one).toFixed(0)} ms); ${os.availableParallelism()} cores, decoder workers ${parallel} (CVM_DECODE_WORKERS); runs interleaved`,
        );
      }
      return figures;
    } finally {
      closeStudyStores();
      await closeDecoderWorker();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
