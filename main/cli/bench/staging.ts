/**
 * `cvm bench --only staging`: time of measure + stage per call, as the renderer calls it on every mouse move.
 * Single calls are below the timer's resolution, so batches of calls are timed and divided.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DATA } from './paths';
import { imagePoint } from '../../../core/geometry/index';
import { median } from '../../../core/metrics/index';
import type { LandmarkSet } from '../../../core/landmarks/index';
import {
  assess,
  measure,
  stage,
  CVMT_THRESHOLDS,
  DEFAULT_THRESHOLDS,
  STAGE_MODEL,
  type Measurements,
} from '../../../core/cvm/index';
import { LANDMARK_NAMES } from '../../../core/landmarks/index';
import { toLandmarkSet } from '../../../core/api/studies';
import { syntheticPoints } from './synthetic';
import type { BenchFigure } from '../command';
import { readAnnotationFile } from '../commands/stage';
import type { BenchArea } from './index';

const BATCH = 1000;
const ANNOTATIONS = path.join(SHARED_DATA, 'cvm13', 'annotations.json');

/** A drag: the C3 lower anterior corner moved a little on each call, so no two calls see the same input. */
function dragSequence(start: LandmarkSet, calls: number): LandmarkSet[] {
  const corner = start.C3la;
  if (!corner) throw new Error('the drag sequence needs a C3la point');
  return Array.from({ length: calls }, (_, i) => ({
    ...start,
    C3la: imagePoint(corner.x + 5 * Math.sin(i / 50), corner.y + 5 * Math.cos(i / 70)),
  }));
}

function inputs(): { sets: LandmarkSet[]; source: string } {
  if (existsSync(ANNOTATIONS)) {
    const file = readAnnotationFile(ANNOTATIONS);
    const sets = file.images.flatMap((img) => dragSequence(img.landmarks, Math.ceil(BATCH / file.images.length)));
    return { sets: sets.slice(0, BATCH), source: `drags on the ${file.images.length} cvm13 annotations` };
  }
  // A CS4 spine drawn at the scale of a cephalogram (main/cli/bench/synthetic.ts).
  const start = toLandmarkSet(syntheticPoints('CS4'));
  return { sets: dragSequence(start, BATCH), source: 'a drag on a synthetic landmark set (shared data absent)' };
}

/** Median over batches of the time per call, in ms. */
function perCallMedianMs(batches: number, call: (i: number) => unknown, batch = BATCH): number {
  const times: number[] = [];
  let sink = 0;
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) if (call(b * batch + i) !== undefined) sink++;
    times.push((performance.now() - start) / batch);
  }
  if (sink === 0) throw new Error('benchmark calls returned nothing');
  return median(times);
}

export const stagingBench: BenchArea = {
  area: 'staging',
  async run({ quick }) {
    const batches = quick ? 20 : 200;
    const { sets, source } = inputs();
    const spacing = { rowMm: 0.1, colMm: 0.1 };
    const measured: Measurements[] = sets.flatMap((s) => {
      const m = measure(s, spacing);
      return m.ok ? [m.value] : [];
    });
    const at = <T>(list: readonly T[], i: number): T => {
      const item = list[i % list.length];
      if (item === undefined) throw new Error('there are no landmark sets to stage');
      return item;
    };
    perCallMedianMs(5, (i) => assess(at(sets, i), spacing)); // warm up the JIT
    const note = `ms per call, each run a batch of ${BATCH} calls; ${source}`;
    const figure = (name: string, call: (i: number) => unknown): BenchFigure => ({
      area: 'staging',
      name,
      medianMs: perCallMedianMs(batches, call),
      runs: batches,
      note,
    });
    // The whole assessment as the renderer runs it on a drag of model-placed landmarks: every landmark's error
    // beyond a person's averaged over the model's deterministic samples (the slowest case).
    const fromModel = { landmarkErrorMm: Object.fromEntries(LANDMARK_NAMES.map((n) => [n, null])) };
    const averagedBatch = 100;
    const averaged: BenchFigure = {
      area: 'staging',
      name: `assess with all 13 landmarks from the landmark model (error averaged over ${STAGE_MODEL.uncertainty.samples} samples)`,
      medianMs: perCallMedianMs(batches, (i) => assess(at(sets, i), spacing, undefined, fromModel), averagedBatch),
      runs: batches,
      note: `ms per call, each run a batch of ${averagedBatch} calls; ${source}`,
    };
    return [
      averaged,
      figure('assess (measure + textbook + staging model, landmarks placed by a person), default preset', (i) =>
        assess(at(sets, i), spacing),
      ),
      figure('assess (measure + stage), cvmt preset', (i) => assess(at(sets, i), spacing, CVMT_THRESHOLDS)),
      figure('assess, spacing unknown (px)', (i) => assess(at(sets, i), null)),
      figure('measure only', (i) => measure(at(sets, i), spacing)),
      figure('stage only', (i) => stage(at(measured, i), DEFAULT_THRESHOLDS)),
    ];
  },
};
