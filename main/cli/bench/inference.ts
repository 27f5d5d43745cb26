/**
 * `cvm bench --only inference`: medians of decode, preprocessing, each model stage, staging and the whole
 * file-to-stage path (warm worker) on a 2000x2400 DICOM, session creation, and memory over a batch.
 * The DICOM is written to a temporary folder from ISBI image 001 (padded to 2000x2400, 12-bit, 0.1 mm)
 * when ../shared/data is present, otherwise from a synthetic gradient.
 */
import { median } from '../../../core/metrics/index';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assess } from '../../../core/cvm/index';
import { decodeImageFile } from '../../dicom/index';
import {
  analyzeOpened,
  findModels,
  InferenceEngine,
  landmarkSetOf,
  modelDirs,
  pickModel,
  pipelineImageOf,
  type VerifiedModel,
} from '../../inference/index';
import { runPipeline, type StageRunner } from '../../inference/pipeline';
import { createStageSession, defaultProviders, type StageSession } from '../../inference/sessions';
import { cudaLibraryHint } from '../../inference/worker-entry';
import { orientPixels, refineMembers, uprightSize, type StageSpec } from '../../../core/inference/index';
import '../../inference/ort-telemetry';
import ort from 'onnxruntime-node';
import type { BenchFigure } from '../command';
import { medianMs } from './measure';
import type { BenchArea } from './index';
import { REPO_ROOT, SHARED_DATA } from './paths';

const TINY_MODEL = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'tiny');
const WIDTH = 2000;
const HEIGHT = 2400;

// ---- a minimal uncompressed DICOM writer (explicit VR little endian), for the benchmark file only ----------

function element(group: number, elem: number, vr: string, value: Uint8Array): Uint8Array {
  const padded = value.length % 2 === 0 ? value : Uint8Array.from([...value, vr === 'UI' || vr === 'OB' ? 0 : 0x20]);
  const long = vr === 'OB' || vr === 'OW' || vr === 'UN';
  const header = new DataView(new ArrayBuffer(long ? 12 : 8));
  header.setUint16(0, group, true);
  header.setUint16(2, elem, true);
  header.setUint8(4, vr.charCodeAt(0));
  header.setUint8(5, vr.charCodeAt(1));
  if (long) header.setUint32(8, padded.length, true);
  else header.setUint16(6, padded.length, true);
  const out = new Uint8Array(header.byteLength + padded.length);
  out.set(new Uint8Array(header.buffer), 0);
  out.set(padded, header.byteLength);
  return out;
}
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const us = (v: number): Uint8Array => new Uint8Array(new Uint16Array([v]).buffer);
const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function writeDicom(pixels: Uint16Array, width: number, height: number, spacingMm: number): Uint8Array {
  const sopClass = '1.2.840.10008.5.1.4.1.1.1'; // CR Image Storage
  const uid = `2.25.${Date.now()}${process.pid}`;
  const metaBody = concat([
    element(0x0002, 0x0001, 'OB', Uint8Array.from([0, 1])),
    element(0x0002, 0x0002, 'UI', text(sopClass)),
    element(0x0002, 0x0003, 'UI', text(uid)),
    element(0x0002, 0x0010, 'UI', text('1.2.840.10008.1.2.1')),
  ]);
  const groupLength = new Uint8Array(new Uint32Array([metaBody.length]).buffer);
  return concat([
    new Uint8Array(128),
    text('DICM'),
    element(0x0002, 0x0000, 'UL', groupLength),
    metaBody,
    element(0x0008, 0x0016, 'UI', text(sopClass)),
    element(0x0008, 0x0018, 'UI', text(uid)),
    element(0x0008, 0x0060, 'CS', text('CR')),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', text('MONOCHROME2')),
    element(0x0028, 0x0010, 'US', us(height)),
    element(0x0028, 0x0011, 'US', us(width)),
    element(0x0028, 0x0030, 'DS', text(`${spacingMm}\\${spacingMm}`)),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(12)),
    element(0x0028, 0x0102, 'US', us(11)),
    element(0x0028, 0x0103, 'US', us(0)),
    element(0x7fe0, 0x0010, 'OW', new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength)),
  ]);
}

/** 12-bit pixels of the benchmark image: ISBI 001 centred in 2000x2400, or a gradient without the data. */
async function benchPixels(): Promise<{ pixels: Uint16Array; source: string }> {
  const pixels = new Uint16Array(WIDTH * HEIGHT);
  const isbi = path.join(SHARED_DATA, 'isbi2015', 'images', '001.jpg');
  if (!existsSync(isbi)) {
    for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) pixels[y * WIDTH + x] = (x * 7 + y * 3) % 4096;
    return { pixels, source: 'synthetic gradient (shared data absent)' };
  }
  const opened = await decodeImageFile('001.jpg', readFileSync(isbi));
  const { width, height, data } = opened.pixels;
  const ox = Math.floor((WIDTH - width) / 2);
  /* eslint-disable @typescript-eslint/no-non-null-assertion -- x < width and y < height, and data holds
     width x height values */
  for (let y = 0; y < Math.min(height, HEIGHT); y++) {
    for (let x = 0; x < Math.min(width, WIDTH); x++) pixels[y * WIDTH + x + ox] = data[y * width + x]! >> 4;
  }
  /* eslint-enable @typescript-eslint/no-non-null-assertion */
  return { pixels, source: 'ISBI 001 padded' };
}

function benchModel(): { model: VerifiedModel; note: string } {
  const listing = findModels(modelDirs(null));
  try {
    const model = pickModel(listing);
    return { model, note: `${model.manifest.id} ${model.manifest.version}` };
  } catch {
    const refused = listing.refused.map((r) => r.reason).join('; ');
    return {
      model: pickModel(findModels([{ dir: path.dirname(TINY_MODEL), source: 'app' }]), 'tiny'),
      note: `tiny test model: no shipped model${refused ? ` (${refused})` : ''}`,
    };
  }
}

function runnerOf(stage: StageSession, spec: StageSpec): StageRunner {
  return async (input) => {
    const out = await stage.session.run({ [spec.input.name]: new ort.Tensor('float32', input, [...spec.input.shape]) });
    const tensor = out[spec.output.name];
    if (!tensor) throw new Error(`the session returned no ${spec.output.name} output`);
    return tensor.data as Float32Array;
  };
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

export const inferenceBench: BenchArea = {
  area: 'inference',
  async run({ quick }) {
    const { model, note: modelNote } = benchModel();
    const { locate: locateSpec, refine: refineSpec } = model.manifest.stages;
    const figures: BenchFigure[] = [];
    const add = (name: string, value: number, runs: number, note: string): void => {
      figures.push({ area: 'inference', name, medianMs: value, runs, note });
    };

    // Session creation, in this thread, both stages (the worker does the same once).
    const createRuns = quick ? 3 : 5;
    const providers = defaultProviders();
    const locateBytes = readFileSync(model.files.locate);
    const refineBytes = readFileSync(model.files.refine);
    // The ensemble's further stage-2 networks (stages.refine.ensemble), created with the other two.
    const memberSpecs = refineMembers(refineSpec).slice(1);
    const memberBytes = model.files.refineMembers.map((f) => readFileSync(f));
    let sessions: [StageSession, StageSession, StageSession[]] | null = null;
    const createTimes: number[] = [];
    for (let i = 0; i < createRuns; i++) {
      const t0 = performance.now();
      const l = await createStageSession(locateBytes, locateSpec, providers, cudaLibraryHint());
      const r = await createStageSession(refineBytes, refineSpec, [l.provider.used]);
      const ms: StageSession[] = [];
      for (const [k, spec] of memberSpecs.entries()) {
        // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- one file per ensemble member (registry)
        ms.push(await createStageSession(memberBytes[k]!, spec, [l.provider.used]));
      }
      createTimes.push(performance.now() - t0);
      if (sessions) await Promise.all([l, r, ...ms].map((x) => x.session.release()));
      else sessions = [l, r, ms];
    }
    if (!sessions) throw new Error('no inference session was created');
    const [locate, refine, members] = sessions;
    const memberRunners = members.map((m, k) => runnerOf(m, memberSpecs[k] ?? refineSpec));
    const provider = `${locate.provider.used}${locate.provider.fallbackReason ? ` (${locate.provider.fallbackReason})` : ''}`;
    add(
      'session creation, both stages (a warm-up run only on a GPU or for a graph with open shapes)',
      median(createTimes),
      createRuns,
      `${modelNote}; provider ${provider}`,
    );

    // The benchmark DICOM.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-bench-'));
    try {
      const { pixels, source } = await benchPixels();
      const file = path.join(dir, 'bench.dcm');
      writeFileSync(file, writeDicom(pixels, WIDTH, HEIGHT, 0.1));
      const fileNote = `${WIDTH}x${HEIGHT} 12-bit uncompressed DICOM, ${source}`;
      const bytes = readFileSync(file);
      const opened = await decodeImageFile('bench.dcm', bytes);
      const runs = quick ? 5 : 15;
      add('decode', await medianMs(runs, () => decodeImageFile('bench.dcm', readFileSync(file))), runs, fileNote);

      // Each step of the pipeline, in this thread with the sessions above.
      const image = pipelineImageOf(opened);
      const steps: Record<'preprocessMs' | 'locateMs' | 'cropMs' | 'refineMs' | 'postprocessMs' | 'totalMs', number[]> =
        {
          preprocessMs: [],
          locateMs: [],
          cropMs: [],
          refineMs: [],
          postprocessMs: [],
          totalMs: [],
        };
      let lastLandmarks = null as null | Awaited<ReturnType<typeof runPipeline>>;
      for (let i = 0; i < runs + 1; i++) {
        const out = await runPipeline(
          model.manifest,
          runnerOf(locate, locateSpec),
          runnerOf(refine, refineSpec),
          image,
          opened.info.spacing,
          { decoding: model.decoding, refineMembers: memberRunners },
        );
        if (i === 0) continue; // warm-up
        lastLandmarks = out;
        for (const key of Object.keys(steps) as (keyof typeof steps)[]) steps[key].push(out.timings[key]);
      }
      const [, , lh, lw] = locateSpec.input.shape;
      const [, , rh, rw] = refineSpec.input.shape;
      add('preprocess (window, letterbox-area, z-score)', median(steps.preprocessMs), runs, `to ${lw}x${lh}`);
      add(
        'stage 1 locate (ONNX run + peaks)',
        median(steps.locateMs),
        runs,
        `${lw}x${lh}; provider ${locate.provider.used}`,
      );
      add(
        'crop region of interest + z-score',
        median(steps.cropMs),
        runs,
        `${rw}x${rh} at ${refineSpec.mmPerPixel} mm/px`,
      );
      add(
        'stage 2 refine (ONNX run + peaks)',
        median(steps.refineMs),
        runs,
        `${rw}x${rh}; provider ${refine.provider.used}`,
      );
      add('postprocess (candidates, shape model, expected error, quality gate)', median(steps.postprocessMs), runs, '');
      add('pipeline in one thread (no decode, no staging)', median(steps.totalMs), runs, '');
      // The same image stored rotated by 90 degrees: the orientation search, the turn and the pipeline.
      const rotated = { rotate: 90, mirror: false } as const;
      const size = uprightSize(image.width, image.height, rotated);
      const turnedImage = {
        ...image,
        width: size.w,
        height: size.h,
        data: orientPixels(image.data, image.width, image.height, rotated),
      };
      const turnedMs: number[] = [];
      let turnedNote = '';
      for (let i = 0; i < runs + 1; i++) {
        const out = await runPipeline(
          model.manifest,
          runnerOf(locate, locateSpec),
          runnerOf(refine, refineSpec),
          turnedImage,
          opened.info.spacing,
          { decoding: model.decoding, refineMembers: memberRunners },
        );
        if (i === 0) continue;
        turnedMs.push(out.timings.totalMs);
        turnedNote = out.recognition.lateralCephalogram
          ? (out.orientation.detail.split(';')[0] ?? '')
          : 'not recognised as a cephalogram';
      }
      add('pipeline, same image stored rotated by 90 degrees', median(turnedMs), runs, turnedNote);
      await Promise.all([locate, refine, ...members].map((x) => x.session.release()));

      if (!lastLandmarks) throw new Error('the pipeline bench ran no pass');
      const set = landmarkSetOf(lastLandmarks);
      add('staging (core/cvm assess)', await medianMs(200, () => assess(set, opened.info.spacing)), 200, '');

      // The whole path the app takes: read + decode here, pipeline in the warm worker, staging here.
      const t0 = performance.now();
      const engine = await InferenceEngine.start({ model, providers });
      const startMs = performance.now() - t0;
      try {
        add('engine start (worker + both sessions)', startMs, 1, `provider ${engine.provider.used}`);
        const fileToStage = async (): Promise<void> => {
          const d0 = performance.now();
          const o = await decodeImageFile('bench.dcm', readFileSync(file));
          await analyzeOpened(engine, o, { decodeMs: performance.now() - d0 });
        };
        await fileToStage();
        add(
          'file to stage, warm worker (read, decode, both stages, staging)',
          await medianMs(runs, fileToStage),
          runs,
          `${fileNote}; provider ${engine.provider.used}`,
        );
        const batch = quick ? 20 : 100;
        (globalThis as { gc?: () => void }).gc?.();
        const rssStart = process.memoryUsage().rss;
        const times: number[] = [];
        const rss: number[] = [];
        for (let i = 0; i < batch; i++) {
          const b0 = performance.now();
          await fileToStage();
          times.push(performance.now() - b0);
          if (i === Math.floor(batch / 2) || i === batch - 1) rss.push(process.memoryUsage().rss);
        }
        const [rssHalfway, rssEnd] = rss;
        if (rssHalfway === undefined || rssEnd === undefined)
          throw new Error('the batch took fewer than two RSS samples');
        add(
          `batch of ${batch} files, per file`,
          median(times),
          batch,
          `RSS ${mb(rssStart)} at start, ${mb(rssHalfway)} halfway, ${mb(rssEnd)} at end (worker included)`,
        );
      } finally {
        await engine.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};
