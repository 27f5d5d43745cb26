/**
 * The two-stage pipeline of models/README.md on one image: letterbox -> stage 1 -> region of interest at
 * the manifest's mm/pixel -> stage 2 -> sub-pixel peaks -> landmarks in image pixels, with the quality
 * gate. Runs wherever the sessions live (the inference worker; tests and benchmarks call it directly).
 */
import type { PredictedLandmark, PredictionTimings, RoiScale } from '../../core/api/analysis';
import { imagePoint, type PixelSpacingMm } from '../../core/geometry/index';
import {
  assessQuality,
  DEFAULT_QUALITY_THRESHOLDS,
  estimateSpacing,
  heatmapPeaks,
  heatmapToInput,
  intensityTable,
  letterboxArea,
  letterboxParams,
  letterboxToImage,
  roiToImage,
  sampleRoi,
  windowToUnit,
  zscoreInPlace,
  type LinearWindow,
  type ModelManifest,
  type QualityReport,
  type RoiGrid,
  type StageSpec,
} from '../../core/inference/index';
import type { LandmarkName, LandmarkSet } from '../../core/landmarks/index';

/** Runs one stage: the [1, 1, H, W] input tensor -> the [1, C, h, w] heatmaps, as flat arrays. */
export type StageRunner = (input: Float32Array) => Promise<Float32Array>;

export interface PipelineImage {
  readonly width: number;
  readonly height: number;
  /** Grey values, MONOCHROME2-oriented (as ImagePixels.data). */
  readonly data: Uint16Array | Uint8Array | Float32Array;
  /** The default display window: model intensity = this window applied linearly to [0, 1]. */
  readonly window: LinearWindow;
}

export interface PipelineOutput {
  readonly landmarks: readonly PredictedLandmark[];
  readonly roiScale: RoiScale;
  readonly quality: QualityReport;
  readonly timings: PredictionTimings;
}

interface Peak {
  readonly x: number;
  readonly y: number;
  readonly confidence: number;
  readonly atEdge: boolean;
}

function decodeHeatmaps(
  heatmaps: Float32Array,
  spec: StageSpec,
  landmarks: readonly LandmarkName[],
  toImage: (u: number, v: number) => { x: number; y: number },
): Map<LandmarkName, Peak> {
  const [, channels, h, w] = spec.output.shape;
  const peaks = heatmapPeaks(heatmaps, channels, w, h);
  const out = new Map<LandmarkName, Peak>();
  landmarks.forEach((name, c) => {
    const p = peaks[c]!;
    const { x, y } = toImage(heatmapToInput(p.u, spec.heatmapStride), heatmapToInput(p.v, spec.heatmapStride));
    const atEdge = p.u <= 0 || p.v <= 0 || p.u >= w - 1 || p.v >= h - 1;
    out.set(name, { x, y, confidence: p.value, atEdge });
  });
  return out;
}

function roiScaleFor(
  spacing: PixelSpacingMm | null,
  stage1: Map<LandmarkName, Peak>,
  imageHeight: number,
): RoiScale {
  if (spacing) {
    return { mmPerPixelX: spacing.colMm, mmPerPixelY: spacing.rowMm, estimated: false, detail: 'from the image spacing' };
  }
  const set: LandmarkSet = {};
  for (const [name, p] of stage1) set[name] = imagePoint(p.x, p.y);
  const estimate = estimateSpacing(set, imageHeight);
  return { mmPerPixelX: estimate.mmPerPixel, mmPerPixelY: estimate.mmPerPixel, estimated: true, detail: estimate.detail };
}

export interface PipelineOptions {
  readonly minConfidence?: number;
}

export async function runPipeline(
  manifest: ModelManifest,
  runLocate: StageRunner,
  runRefine: StageRunner,
  image: PipelineImage,
  spacing: PixelSpacingMm | null,
  options: PipelineOptions = {},
): Promise<PipelineOutput> {
  const { width: w, height: h } = image;
  if (!(w > 0 && h > 0) || image.data.length !== w * h) {
    throw new Error(`the image has ${image.data.length} pixels, expected ${w}x${h}`);
  }
  const t0 = performance.now();
  // Integer pixels are read through a table of the window; float pixels are windowed once.
  const { data } = image;
  const table = data instanceof Float32Array ? undefined : intensityTable(image.window, data instanceof Uint8Array ? 256 : 65536);
  const pixels = data instanceof Float32Array ? windowToUnit(data, image.window) : data;
  const locate = manifest.stages.locate;
  const [, , lH, lW] = locate.input.shape;
  const lb = letterboxParams(w, h, lW, lH);
  const locateInput = zscoreInPlace(letterboxArea(pixels, lb, table));
  const t1 = performance.now();
  const stage1 = decodeHeatmaps(await runLocate(locateInput), locate, manifest.landmarks, (u, v) => letterboxToImage(lb, u, v));
  const t2 = performance.now();

  const refine = manifest.stages.refine;
  const [, , rH, rW] = refine.input.shape;
  const roiScale = roiScaleFor(spacing, stage1, h);
  let cx = 0;
  let cy = 0;
  for (const p of stage1.values()) {
    cx += p.x / stage1.size;
    cy += p.y / stage1.size;
  }
  const roi: RoiGrid = {
    cx, cy, W: rW, H: rH,
    sx: refine.mmPerPixel / roiScale.mmPerPixelX,
    sy: refine.mmPerPixel / roiScale.mmPerPixelY,
  };
  const refineInput = zscoreInPlace(sampleRoi(pixels, w, h, roi, table));
  const t3 = performance.now();
  const stage2 = decodeHeatmaps(await runRefine(refineInput), refine, manifest.landmarks, (u, v) => roiToImage(roi, u, v));
  const t4 = performance.now();

  const qualityInput = manifest.landmarks.map((name) => {
    const p2 = stage2.get(name)!;
    return { name, x: p2.x, y: p2.y, confidence: p2.confidence, atRegionEdge: p2.atEdge };
  });
  const thresholds = { ...DEFAULT_QUALITY_THRESHOLDS, ...(options.minConfidence !== undefined ? { minConfidence: options.minConfidence } : {}) };
  const quality = assessQuality(qualityInput, w, h, thresholds);
  const landmarks: PredictedLandmark[] = qualityInput.map((q) => {
    const p1 = stage1.get(q.name)!;
    return {
      name: q.name, x: q.x, y: q.y, confidence: q.confidence,
      stage1: { x: p1.x, y: p1.y },
      issues: quality.landmarkIssues[q.name] ?? [],
    };
  });
  const t5 = performance.now();
  return {
    landmarks,
    roiScale,
    quality,
    timings: {
      preprocessMs: t1 - t0,
      locateMs: t2 - t1,
      cropMs: t3 - t2,
      refineMs: t4 - t3,
      postprocessMs: t5 - t4,
      totalMs: t5 - t0,
    },
  };
}
