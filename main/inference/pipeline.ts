/**
 * The two-stage pipeline of models/README.md on one image: letterbox -> stage 1 -> region of interest at
 * the manifest's mm/pixel -> stage 2 -> sub-pixel peaks -> landmarks in image pixels, with the quality
 * gate. Runs wherever the sessions live (the inference worker; tests and benchmarks call it directly).
 */
import type {
  AnatomyCheck,
  OrientationResult,
  OrientationTrial,
  PredictedLandmark,
  PredictionTimings,
  Recognition,
  RoiScale,
} from '../../core/api/analysis';
import { imagePoint, type PixelSpacingMm } from '../../core/geometry/index';
import {
  alignShape,
  contentBox,
  cropPixels,
  unitOf,
  assessQuality,
  DEFAULT_QUALITY_THRESHOLDS,
  describeOrientation,
  downsample,
  expectedErrorMm,
  heatmapCandidates,
  heatmapChannel,
  heatmapPeak,
  heatmapStats,
  imageToRoi,
  isUpright,
  LEVELLING_TURNS_DEG,
  localPeak,
  MIRRORED,
  regulariseShape,
  shapeDistance,
  type UncertaintyFeatures,
  orientPixels,
  ORIENTATIONS,
  selectConfiguration,
  storedToUpright,
  turnPixels,
  turnPoint,
  UPRIGHT,
  uprightSize,
  uprightToStored,
  type DecodingParams,
  type LandmarkQualityInput,
  type Orientation,
  type PixelArray,
  type RefineStageSpec,
  estimateSpacing,
  spacingDisagreement,
  type SpacingDisagreement,
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

/**
 * `items[i]` of a per-landmark (per-channel) list, or a RangeError naming the list: the model's channels, the
 * manifest's landmarks and the decoders' outputs are expected to have one entry per landmark.
 */
function nth<T>(items: readonly T[], i: number, what: string): T {
  const item = items[i];
  if (item === undefined) throw new RangeError(`${what} has no entry ${i} (${items.length} entries)`);
  return item;
}

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
  readonly recognition: Recognition;
  readonly orientation: OrientationResult;
  readonly anatomy: AnatomyCheck | null;
  readonly timings: PredictionTimings;
  /** What each landmark's expected error was computed from (model order; empty without a decoding file). */
  readonly uncertainty: readonly UncertaintyFeatures[];
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
    const p = nth(peaks, c, 'the heatmap peaks');
    const { x, y } = toImage(heatmapToInput(p.u, spec.heatmapStride), heatmapToInput(p.v, spec.heatmapStride));
    const atEdge = p.u <= 0 || p.v <= 0 || p.u >= w - 1 || p.v >= h - 1;
    out.set(name, { x, y, confidence: p.value, atEdge });
  });
  return out;
}

/**
 * The scale stage 2 crops at: the stated spacing, or the estimate from the stage-1 vertebrae when there is none or
 * when the stated one is grossly off (spacingDisagreement; then the result says so and asks to check it). A crop
 * at a wrong scale shows the networks vertebrae of a size they never learnt: a spacing stated as 0.1 mm/px for an
 * image of 0.2 mm/px failed 51 of the 54 cvm13 images (17 mm mean error).
 */
function roiScaleFor(
  spacing: PixelSpacingMm | null,
  stage1: Map<LandmarkName, Peak>,
  imageHeight: number,
): { scale: RoiScale; disagreement: SpacingDisagreement | null; stated: RoiScale | null } {
  const set: LandmarkSet = {};
  for (const [name, p] of stage1) set[name] = imagePoint(p.x, p.y);
  const estimate = estimateSpacing(set, imageHeight);
  if (spacing) {
    const stated: RoiScale = {
      mmPerPixelX: spacing.colMm,
      mmPerPixelY: spacing.rowMm,
      estimated: false,
      detail: 'from the image spacing',
    };
    const disagreement = spacingDisagreement(spacing, estimate);
    if (!disagreement) return { scale: stated, disagreement: null, stated };
    // The stated spacing's aspect (rows vs columns) is kept, its size replaced by the estimate.
    const aspect = Math.sqrt(spacing.colMm / spacing.rowMm);
    return {
      scale: {
        mmPerPixelX: estimate.mmPerPixel * aspect,
        mmPerPixelY: estimate.mmPerPixel / aspect,
        estimated: true,
        detail: `${estimate.detail}; the stated ${disagreement.statedMm.toFixed(3)} mm/px is ${disagreement.factor.toFixed(2)} times that`,
      },
      disagreement,
      stated,
    };
  }
  return {
    scale: {
      mmPerPixelX: estimate.mmPerPixel,
      mmPerPixelY: estimate.mmPerPixel,
      estimated: true,
      detail: estimate.detail,
    },
    disagreement: null,
    stated: null,
  };
}

export interface PipelineOptions {
  readonly minConfidence?: number;
  /** Shape model and expected-error calibration of the model (decoding.json); null/absent: argmax decoding only. */
  readonly decoding?: DecodingParams | null;
  /** 'auto' (default with a decoding file): find the orientation; 'as-stored': take the image as it is. */
  readonly orientation?: 'auto' | 'as-stored';
  /**
   * The ensemble's further stage-2 networks (`stages.refine.ensemble`, in order: member 1, 2, ...); the decoding
   * file's test-time passes say which runs on which crop. Absent: member 0 (`runRefine`) only.
   */
  readonly refineMembers?: readonly StageRunner[];
  /**
   * Internal to runPipeline's second look: a look (orientation and turn) not to take, and every orientation and
   * the small turns tried even when the look as stored is clear.
   */
  readonly exceptLook?: { readonly orientation: Orientation; readonly turnDeg: number };
}

/** Mean stage-1 peak below which the image is not taken for a cephalogram in that orientation. */
export const MIN_STAGE1_PEAK = 0.15;
/** A plausible orientation with this mean stage-1 peak ends the search (upright cephalograms: 0.36-0.65). */
export const CONFIDENT_STAGE1_PEAK = 0.3;
/** The C2-C4 column must run within this many degrees of straight down (after the similarity alignment). */
export const MAX_TILT_DEG = 50;
/**
 * Stage 1 sees the whole image at about 2 mm per input pixel, so its configuration is only roughly
 * C2-C4-shaped (shape distances up to ~5000 on the 54 cvm13 cephalograms when one stage-1 point strays, 6000-12000 in
 * a wrong orientation): its
 * shape limit is this multiple of the model's. The decisive signal between orientations is the mean peak
 * (0.35-0.65 upright, below 0.1 turned).
 */
export const STAGE1_SHAPE_FACTOR = 100;

interface Stage1Look {
  readonly peaks: Map<LandmarkName, Peak>;
  readonly meanPeak: number;
  readonly shapeDistance: number;
  readonly tiltDeg: number;
  readonly plausible: boolean;
}

function lookAt(peaks: Map<LandmarkName, Peak>, manifest: ModelManifest, decoding: DecodingParams | null): Stage1Look {
  const pts = manifest.landmarks.map((n) => {
    const peak = peaks.get(n);
    if (!peak) throw new RangeError(`the stage-1 peaks have no ${n}`);
    return peak;
  });
  const meanPeak = pts.reduce((a, p) => a + p.confidence, 0) / pts.length;
  if (!decoding) return { peaks, meanPeak, shapeDistance: 0, tiltDeg: 0, plausible: true };
  const fit = alignShape(decoding.shapeModel, pts);
  // Tilt of the column: the direction from the C2 points to the C4 points against straight down (robust to
  // one stray stage-1 point, unlike the alignment's rotation).
  const centre = (prefix: string): { x: number; y: number } => {
    const ps = manifest.landmarks.flatMap((n, i) => (n.startsWith(prefix) ? [nth(pts, i, 'the stage-1 points')] : []));
    return { x: ps.reduce((a, p) => a + p.x, 0) / ps.length, y: ps.reduce((a, p) => a + p.y, 0) / ps.length };
  };
  const c2 = centre('C2');
  const c4 = centre('C4');
  const tiltDeg = (Math.atan2(-(c4.x - c2.x), c4.y - c2.y) * 180) / Math.PI;
  const plausible =
    fit.distance <= STAGE1_SHAPE_FACTOR * decoding.shapeModel.limit &&
    Math.abs(tiltDeg) <= MAX_TILT_DEG &&
    meanPeak >= MIN_STAGE1_PEAK;
  return { peaks, meanPeak, shapeDistance: fit.distance, tiltDeg, plausible };
}

/** Stage 1 on an image (any pixel array + optional table), peaks in that image's pixels. */
async function stage1On(
  manifest: ModelManifest,
  runLocate: StageRunner,
  pixels: PixelArray,
  w: number,
  h: number,
  table: Float32Array | undefined,
): Promise<Map<LandmarkName, Peak>> {
  const locate = manifest.stages.locate;
  const [, , lH, lW] = locate.input.shape;
  const lb = letterboxParams(w, h, lW, lH);
  const input = zscoreInPlace(letterboxArea(pixels, lb, table));
  return decodeHeatmaps(await runLocate(input), locate, manifest.landmarks, (u, v) => letterboxToImage(lb, u, v));
}

/**
 * A turned look in another orientation (mirrored) must beat a look at the image as stored by this much of mean
 * stage-1 peak: a faint column shows in the mirror of a tilted film too. Cross-validated on the cvm13 images
 * tilted by ±15-25°, mirrored or not: 0 lets mirrors win wrongly (-25°: 1.08 -> 2.37 mm), 0.05-0.1 keep every
 * set at its best, 0.2 loses the mirrored and tilted ones (1.06 -> 2.37 mm).
 */
const TURNED_OTHER_ORIENTATION_MARGIN = 0.1;

/**
 * The tilts (tiltDeg) of the C2-C4 columns the models learnt from: the cvm13 annotations lie at -0.1 to 20.2°
 * (mean 9.9°). A column found clearly but outside them is looked at under the small turns too: since stage 1
 * learnt other fields of view (1.2.0) it finds columns tilted by 25-45° clearly, and taken as they were, 5-8
 * points of an image landed on the neighbouring vertebra (the cvm13 images tilted by -15°: 1.06 mm, 23 points).
 */
const LEARNT_TILT_DEG = { min: 0, max: 20 };
/**
 * Looks are ranked by mean stage-1 peak less this much per degree that the column, as stage 2 would see it (after
 * the turn), lies outside the middle half of LEARNT_TILT_DEG. Set on the tilted cvm13 variants (docs/inference.md,
 * "Tilted columns"): a yes/no bonus for the learnt range left the -25° set at 0.91 mm, this ranking 0.69 mm.
 */
const TILT_PENALTY_PER_DEG = 0.02;

function inLearntTilt(tiltDeg: number): boolean {
  return tiltDeg >= LEARNT_TILT_DEG.min && tiltDeg <= LEARNT_TILT_DEG.max;
}

function tiltPenalty(tiltDeg: number): number {
  const middle = (LEARNT_TILT_DEG.min + LEARNT_TILT_DEG.max) / 2;
  const quarter = (LEARNT_TILT_DEG.max - LEARNT_TILT_DEG.min) / 4;
  return TILT_PENALTY_PER_DEG * Math.max(0, Math.abs(tiltDeg - middle) - quarter);
}

/** Side (px) of the small copy the other orientations are tried on. */
const ORIENTATION_PROBE_PX = 384;

/**
 * The two-stage pipeline with orientation handling: stage 1 on the image as stored; when that is not a
 * plausible upright C2-C4 configuration, or only a weak one (and a decoding file is present), stage 1 on the
 * seven other orientations of a small copy, and where needed on the copy as stored turned by a few degrees;
 * the most convincing plausible look is taken, the image turned upright and the pipeline run on it; landmarks
 * come back in the stored image's pixels. No plausible look: the result says "not a lateral cephalogram" and
 * has no landmarks. Stage-2 landmarks not shaped like C2-C4: a second look without the first (runWithSecondLook).
 */
export async function runPipeline(
  manifest: ModelManifest,
  runLocate: StageRunner,
  runRefine: StageRunner,
  image: PipelineImage,
  spacing: PixelSpacingMm | null,
  options: PipelineOptions = {},
): Promise<PipelineOutput> {
  const box =
    image.width > 0 && image.data.length === image.width * image.height
      ? contentBox(image.data, image.width, image.height, unitOf(image.window))
      : null;
  if (!box)
    return runWithSecondLook(options, image, (im, o) => runPipelineOn(manifest, runLocate, runRefine, im, spacing, o));
  // A frame of uniform rows and columns (a film scanned on a larger bed, a padded export) is left out: the
  // pipeline runs on the radiograph inside it, and its landmarks are moved back into the stored image.
  const radiograph = { ...image, width: box.width, height: box.height, data: cropPixels(image.data, image.width, box) };
  const inner = await runWithSecondLook(options, radiograph, (im, o) =>
    runPipelineOn(manifest, runLocate, runRefine, im, spacing, o),
  );
  const back = (p: { x: number; y: number }) => ({ x: p.x + box.x0, y: p.y + box.y0 });
  const frame = `the uniform frame around the radiograph was left out (the model looked at columns ${box.x0}-${box.x0 + box.width - 1}, rows ${box.y0}-${box.y0 + box.height - 1})`;
  return {
    ...inner,
    landmarks: inner.landmarks.map((l) => ({ ...l, ...back(l), stage1: back(l.stage1) })),
    orientation: { ...inner.orientation, detail: `${inner.orientation.detail}; ${frame}` },
  };
}

/** The image as the model would see its negative: 1 - the window's grey, as floats already in [0, 1]. */
function negativeOf(image: PipelineImage): PipelineImage {
  const unit = unitOf(image.window);
  const data = new Float32Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = 1 - unit(image.data[i] ?? 0);
  return { ...image, data, window: { center: 0.5, width: 1 } };
}

/** What a plausible negative look says: a problem that makes the image "check", and the note of what was done. */
const NEGATIVE_PROBLEM =
  'C2-C4 were found in the negative of the image (its grey levels inverted): the image as stored gave landmarks not shaped like C2-C4. Check that it is an inverted export (bone dark) and check the landmarks.';

/**
 * runPipelineOn, and where its stage-2 landmarks are not shaped like C2-C4 (anatomy implausible: the verdict
 * "failed"), once more with that look (orientation and turn) left out and every orientation and turn tried: a
 * stage 1 that finds a column clearly in the wrong orientation, or under the wrong turn, gets a second chance.
 * Where that gives no plausible shape either, the image's negative is tried: an export whose grey levels are
 * inverted (a MONOCHROME1 image written as shown, a film scanned as a negative) can mislead stage 1 in any
 * orientation. A later result is taken only where its shape is plausible; they cost a run each, on such images only.
 */
async function runWithSecondLook(
  options: PipelineOptions,
  image: PipelineImage,
  run: (image: PipelineImage, options: PipelineOptions) => Promise<PipelineOutput>,
): Promise<PipelineOutput> {
  const first = await run(image, options);
  const failedShape = first.recognition.lateralCephalogram && first.anatomy !== null && !first.anatomy.plausible;
  if (!failedShape || !options.decoding || options.orientation === 'as-stored' || options.exceptLook) return first;
  const o = first.orientation;
  const second = await run(image, {
    ...options,
    exceptLook: { orientation: { rotate: o.rotate, mirror: o.mirror }, turnDeg: o.turnDeg ?? 0 },
  });
  const plausible = (r: PipelineOutput) => r.recognition.lateralCephalogram && r.anatomy?.plausible === true;
  if (plausible(second))
    return {
      ...second,
      orientation: {
        ...second.orientation,
        detail: `${second.orientation.detail} (the first look, ${first.orientation.detail}, gave landmarks not shaped like C2-C4)`,
      },
    };
  const negative = await run(negativeOf(image), options);
  if (!plausible(negative)) return first;
  return {
    ...negative,
    quality: {
      ...negative.quality,
      verdict: negative.quality.verdict === 'ok' ? 'uncertain' : negative.quality.verdict,
      problems: [NEGATIVE_PROBLEM, ...negative.quality.problems],
    },
    orientation: { ...negative.orientation, detail: `${negative.orientation.detail}; grey levels inverted` },
  };
}

async function runPipelineOn(
  manifest: ModelManifest,
  runLocate: StageRunner,
  runRefine: StageRunner,
  image: PipelineImage,
  spacing: PixelSpacingMm | null,
  options: PipelineOptions,
): Promise<PipelineOutput> {
  const { width: w, height: h } = image;
  if (!(w > 0 && h > 0) || image.data.length !== w * h) {
    throw new Error(`the image has ${image.data.length} pixels, expected ${w}x${h}`);
  }
  const t0 = performance.now();
  const decoding = options.decoding ?? null;
  // Integer pixels are read through a table of the window; float pixels are windowed once.
  const { data } = image;
  const table =
    data instanceof Float32Array ? undefined : intensityTable(image.window, data instanceof Uint8Array ? 256 : 65536);
  const pixels = data instanceof Float32Array ? windowToUnit(data, image.window) : data;
  const t1 = performance.now();
  const asStored = lookAt(await stage1On(manifest, runLocate, pixels, w, h, table), manifest, decoding);
  const t2 = performance.now();
  let orientation: Orientation = UPRIGHT;
  let look = asStored;
  const tried: OrientationTrial[] = [
    {
      orientation: UPRIGHT,
      meanPeak: asStored.meanPeak,
      shapeDistance: asStored.shapeDistance,
      tiltDeg: asStored.tiltDeg,
      plausible: asStored.plausible,
    },
  ];
  // The probe: a small copy the other orientations and the small turns are tried on.
  let probe: { data: Float32Array; w: number; h: number; f: number } | null = null;
  const probeOf = (): { data: Float32Array; w: number; h: number; f: number } => {
    if (!probe) {
      const f = Math.max(1, Math.floor(Math.max(w, h) / ORIENTATION_PROBE_PX));
      probe = { ...downsample(pixels, w, h, f, table), f };
    }
    return probe;
  };
  const except = options.exceptLook;
  const allowed = (o: Orientation, turnDeg: number): boolean =>
    !except ||
    except.turnDeg !== turnDeg ||
    except.orientation.rotate !== o.rotate ||
    except.orientation.mirror !== o.mirror;
  let best: { o: Orientation; look: Stage1Look; turnDeg: number } | null =
    asStored.plausible && allowed(UPRIGHT, 0) ? { o: UPRIGHT, look: asStored, turnDeg: 0 } : null;
  const searching = decoding !== null && options.orientation !== 'as-stored';
  // A weak look as stored is compared too: a left-facing film can show a faint, plausible-looking column.
  if (searching && (except || !asStored.plausible || asStored.meanPeak < CONFIDENT_STAGE1_PEAK)) {
    const small = probeOf();
    for (const o of ORIENTATIONS.slice(1)) {
      const up = uprightSize(small.w, small.h, o);
      const l = lookAt(
        await stage1On(manifest, runLocate, orientPixels(small.data, small.w, small.h, o), up.w, up.h, undefined),
        manifest,
        decoding,
      );
      tried.push({
        orientation: o,
        meanPeak: l.meanPeak,
        shapeDistance: l.shapeDistance,
        tiltDeg: l.tiltDeg,
        plausible: l.plausible,
      });
      if (l.plausible && allowed(o, 0) && (!best || l.meanPeak > best.look.meanPeak)) {
        best = { o, look: l, turnDeg: 0 };
      }
      // Clearly upright: no need to try the rarer orientations (they are ordered by how often clinics produce them).
      if (!except && best && best.look.meanPeak >= CONFIDENT_STAGE1_PEAK) break;
    }
  }
  // Not found, found only weakly, found tilted outside the learnt tilts, or found only turned by 90° or 180° (rarer
  // than a tilted column): the image turned by a few degrees, for a column further from vertical than the models
  // learnt from; as stored, in the other orientation found when it is weak or tilted, and mirrored when nothing
  // was found clearly (a left-facing film tilted). Stage 1 runs on the turned probe; its points, turned back, place
  // the stage-2 crop, which is turned by the same angle. A turn is taken only where stage 1 finds the column more
  // clearly than any look without one, less the tilt penalty of each.
  const score = (l: Stage1Look, turnDeg: number): number => l.meanPeak - tiltPenalty(l.tiltDeg + turnDeg);
  const weak = !best || best.look.meanPeak < CONFIDENT_STAGE1_PEAK;
  const tilted = best !== null && !inLearntTilt(best.look.tiltDeg);
  if (searching && (except || weak || tilted || best?.o.rotate !== 0)) {
    const small = probeOf();
    const half = Math.floor(small.f / 2);
    const other = best && !isUpright(best.o) && (weak || tilted) ? best.o : null;
    const otherIsMirror = other !== null && other.rotate === 0 && other.mirror;
    const bases = [UPRIGHT, ...(other ? [other] : []), ...(weak && !otherIsMirror ? [MIRRORED] : [])];
    turning: for (const o of bases) {
      const up = uprightSize(small.w, small.h, o);
      const view = orientPixels(small.data, small.w, small.h, o);
      for (const turnDeg of LEVELLING_TURNS_DEG) {
        const peaks = await stage1On(manifest, runLocate, turnPixels(view, up.w, up.h, turnDeg), up.w, up.h, undefined);
        // Back through the turn and the orientation to the stored probe, then to the upright full image.
        const inUpright = new Map<LandmarkName, Peak>();
        for (const [name, p] of peaks) {
          const q = turnPoint(-turnDeg, up.w, up.h, p.x, p.y);
          const sp = uprightToStored(o, small.w, small.h, q.x, q.y);
          inUpright.set(name, { ...p, ...storedToUpright(o, w, h, sp.x * small.f + half, sp.y * small.f + half) });
        }
        const l = lookAt(inUpright, manifest, decoding);
        tried.push({
          orientation: o,
          turnDeg,
          meanPeak: l.meanPeak,
          shapeDistance: l.shapeDistance,
          tiltDeg: l.tiltDeg,
          plausible: l.plausible,
        });
        const margin = best && isUpright(best.o) && !isUpright(o) ? TURNED_OTHER_ORIENTATION_MARGIN : 0;
        const better = !best || score(l, turnDeg) > score(best.look, best.turnDeg) + margin;
        if (l.plausible && allowed(o, turnDeg) && better) {
          best = { o, look: l, turnDeg };
        }
        if (
          best &&
          best.turnDeg !== 0 &&
          best.look.meanPeak >= CONFIDENT_STAGE1_PEAK &&
          tiltPenalty(best.look.tiltDeg + best.turnDeg) === 0
        ) {
          break turning;
        }
      }
    }
  }
  if (best) {
    orientation = best.o;
    look = best.look;
  }
  const turnDeg = best?.turnDeg ?? 0;
  const t3 = performance.now();
  const notACephalogram = (reason: string, t: number): PipelineOutput => ({
    landmarks: [],
    roiScale: {
      mmPerPixelX: spacing?.colMm ?? Number.NaN,
      mmPerPixelY: spacing?.rowMm ?? Number.NaN,
      estimated: spacing === null,
      detail: 'not measured: no cephalogram found',
    },
    quality: { verdict: 'failed', problems: [`Not a lateral cephalogram: ${reason}`], landmarkIssues: {} },
    recognition: { lateralCephalogram: false, reason },
    orientation: { ...UPRIGHT, corrected: false, detail: 'no orientation gave a plausible C2-C4 column', tried },
    anatomy: null,
    uncertainty: [],
    timings: {
      preprocessMs: t1 - t0,
      locateMs: t3 - t1,
      cropMs: 0,
      refineMs: t - t3,
      postprocessMs: performance.now() - t,
      totalMs: performance.now() - t0,
    },
  });
  if (!look.plausible) return notACephalogram(recognitionFailure(asStored, decoding), t3);
  // The upright image: the stored one, or a turned copy (then stage 1 is run on it at full resolution).
  const up = uprightSize(w, h, orientation);
  const upPixels = isUpright(orientation) ? pixels : orientPixels(pixels, w, h, orientation);
  const upSpacing: PixelSpacingMm | null =
    spacing && (orientation.rotate === 90 || orientation.rotate === 270)
      ? { rowMm: spacing.colMm, colMm: spacing.rowMm }
      : spacing;
  // Found under a turn: its stage-1 points, already in the upright image. Turned by 90° or mirrored alone: stage 1
  // again on the upright image at full resolution.
  const stage1 =
    isUpright(orientation) || turnDeg !== 0
      ? look.peaks
      : await stage1On(manifest, runLocate, upPixels, up.w, up.h, table);
  const t4 = performance.now();

  const refine = manifest.stages.refine;
  const [, , rH, rW] = refine.input.shape;
  const scales = roiScaleFor(upSpacing, stage1, up.h);
  let cx = 0;
  let cy = 0;
  for (const p of stage1.values()) {
    cx += p.x / stage1.size;
    cy += p.y / stage1.size;
  }
  // The stage-2 runs (decoding.json testTime.passes): which network on which crop; one crop per rotation.
  const runners = [runRefine, ...(options.refineMembers ?? [])];
  const plan = decoding?.testTime?.passes ?? [{ member: 0, rotationDeg: 0 }];
  const missing = plan.find((p) => p.member >= runners.length);
  if (missing) {
    throw new Error(
      `the decoding file's test-time passes use stage-2 network ${missing.member}, but ${runners.length} ${runners.length === 1 ? 'is' : 'are'} loaded (stages.refine.ensemble of the manifest)`,
    );
  }
  let cropMs = 0;
  let refineMs = 0;
  const stage2At = async (scale: RoiScale): Promise<ReturnType<typeof decodeStage2>> => {
    const s0 = performance.now();
    const roi: RoiGrid = {
      cx,
      cy,
      W: rW,
      H: rH,
      sx: refine.mmPerPixel / scale.mmPerPixelX,
      sy: refine.mmPerPixel / scale.mmPerPixelY,
      // A crop of the image turned by turnDeg is the stored image sampled on a grid turned the other way.
      ...(turnDeg !== 0 ? { rotationDeg: -turnDeg } : {}),
    };
    const crops = new Map<number, { roi: RoiGrid; input: Float32Array }>();
    const cropAt = (rotationDeg: number): { roi: RoiGrid; input: Float32Array } => {
      let c = crops.get(rotationDeg);
      if (!c) {
        const g: RoiGrid = rotationDeg === 0 ? roi : { ...roi, rotationDeg: rotationDeg - turnDeg };
        c = { roi: g, input: zscoreInPlace(sampleRoi(upPixels, up.w, up.h, g, table)) };
        crops.set(rotationDeg, c);
      }
      return c;
    };
    cropAt(0);
    const s1 = performance.now();
    const passes: Stage2Pass[] = [];
    for (const p of plan) {
      const c = cropAt(p.rotationDeg);
      // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- member index checked above
      passes.push({ ...p, roi: c.roi, heatmaps: await runners[p.member]!(c.input) });
    }
    cropMs += s1 - s0;
    refineMs += performance.now() - s1;
    return decodeStage2(passes, refine, manifest.landmarks, roi, decoding);
  };
  let upScale = scales.scale;
  let spacingProblem = scales.disagreement;
  let decoded = await stage2At(upScale);
  if (spacingProblem && scales.stated) {
    // The vertebrae's estimate is off where stage 1 saw the column only roughly (a tight window around the neck):
    // the stated scale is tried too, and the estimate kept only where its landmarks are shaped more like C2-C4
    // (the shape distance is scale-free).
    const atStated = await stage2At(scales.stated);
    if (!(decoded.shapeDistance < atStated.shapeDistance)) {
      decoded = atStated;
      upScale = scales.stated;
      spacingProblem = null;
    }
  }
  const toStored = (p: { x: number; y: number }): { x: number; y: number } =>
    uprightToStored(orientation, w, h, p.x, p.y);

  // The quality rules (top-to-bottom order, image border) are checked in the upright image.
  const qualityInput: LandmarkQualityInput[] = manifest.landmarks.map((name, c) => {
    const d = nth(decoded.points, c, 'the decoded points');
    return {
      name,
      x: d.x,
      y: d.y,
      confidence: d.confidence,
      atRegionEdge: d.atEdge,
      expectedErrorMm: d.expectedErrorMm,
    };
  });
  const thresholds = {
    ...DEFAULT_QUALITY_THRESHOLDS,
    ...(options.minConfidence !== undefined ? { minConfidence: options.minConfidence } : {}),
    ...(decoding ? { flagMm: decoding.expectedError.flagMm } : {}),
    ...(decoding?.expectedError.imageCheckMm ? { imageCheckMm: decoding.expectedError.imageCheckMm } : {}),
  };
  const anatomy: AnatomyCheck | null = decoding
    ? {
        shapeDistance: decoded.shapeDistance,
        limit: decoding.shapeModel.limit,
        plausible: decoded.shapeDistance <= decoding.shapeModel.limit,
        reselected: decoded.reselected,
      }
    : null;
  // Stage 1 sees C2-C4 only roughly. A column it found only faintly or only under a turn or another orientation,
  // whose stage-2 landmarks are not shaped like C2-C4 either, is no cephalogram: since stage 1 learnt other fields
  // of view (1.2.0), hand and hip radiographs show such looks (mean peak 0.16-0.33).
  if (
    anatomy &&
    !anatomy.plausible &&
    (look.meanPeak < CONFIDENT_STAGE1_PEAK || !isUpright(orientation) || turnDeg !== 0)
  ) {
    return notACephalogram(
      `the model finds C2-C4 only faintly or only turned (mean evidence ${look.meanPeak.toFixed(2)}, ${describeOrientation(orientation, turnDeg)}), and the landmarks placed there are not shaped like C2-C4 (shape distance ${anatomy.shapeDistance.toFixed(1)}, plausible up to ${anatomy.limit.toFixed(1)}). ${NO_COLUMN_HINT}`,
      performance.now(),
    );
  }
  const assessed = assessQuality(qualityInput, up.w, up.h, thresholds, anatomy);
  const quality: QualityReport = spacingProblem
    ? {
        ...assessed,
        verdict: assessed.verdict === 'ok' ? 'uncertain' : assessed.verdict,
        problems: [...assessed.problems, spacingProblem.message],
      }
    : assessed;
  const landmarks: PredictedLandmark[] = qualityInput.map((q) => {
    const first = stage1.get(q.name);
    if (!first) throw new RangeError(`the stage-1 peaks have no ${q.name}`);
    const p1 = toStored(first);
    const s = toStored(q);
    return {
      name: q.name,
      x: s.x,
      y: s.y,
      confidence: q.confidence,
      expectedErrorMm: q.expectedErrorMm ?? null,
      stage1: { x: p1.x, y: p1.y },
      issues: quality.landmarkIssues[q.name] ?? [],
    };
  });
  const roiScale: RoiScale =
    orientation.rotate === 90 || orientation.rotate === 270
      ? { ...upScale, mmPerPixelX: upScale.mmPerPixelY, mmPerPixelY: upScale.mmPerPixelX }
      : upScale;
  const t7 = performance.now();
  return {
    landmarks,
    roiScale,
    quality,
    recognition: { lateralCephalogram: true, reason: null },
    orientation: {
      ...orientation,
      corrected: !isUpright(orientation) || turnDeg !== 0,
      ...(turnDeg !== 0 ? { turnDeg } : {}),
      detail: describeOrientation(orientation, turnDeg),
      tried,
    },
    anatomy,
    uncertainty: decoded.uncertainty,
    timings: {
      preprocessMs: t1 - t0,
      locateMs: t2 - t1 + (t4 - t3),
      orientationMs: t3 - t2,
      cropMs,
      refineMs,
      postprocessMs: t7 - t4 - cropMs - refineMs,
      totalMs: t7 - t0,
    },
  };
}

/**
 * How every "not a lateral cephalogram" reason ends: what gives such a result. The front ends replace it when the
 * radiograph-kind model is sure the image is a cephalogram (main/services/landmark-analysis.ts).
 */
export const NO_COLUMN_HINT =
  'A hand, chest or panoramic radiograph or a cropped image gives this; no landmarks are drawn.';

function recognitionFailure(asStored: Stage1Look, decoding: DecodingParams | null): string {
  const parts: string[] = [];
  if (asStored.meanPeak < MIN_STAGE1_PEAK)
    parts.push(
      `the model finds no C2-C4 vertebrae (mean evidence ${asStored.meanPeak.toFixed(2)}, a cephalogram gives ${MIN_STAGE1_PEAK} or more)`,
    );
  if (decoding && asStored.shapeDistance > STAGE1_SHAPE_FACTOR * decoding.shapeModel.limit) {
    parts.push(
      `what it finds is not shaped like C2-C4 (shape distance ${asStored.shapeDistance.toFixed(0)}, plausible up to ${(STAGE1_SHAPE_FACTOR * decoding.shapeModel.limit).toFixed(0)})`,
    );
  }
  if (parts.length === 0) parts.push('no orientation of the image shows an upright C2-C4 column');
  return `${parts.join('; ')}, in the image as stored, turned by 90°, 180° or mirrored, and turned by 15° or 30° either way. ${NO_COLUMN_HINT}`;
}

interface DecodedPoint {
  readonly x: number;
  readonly y: number;
  readonly confidence: number;
  readonly atEdge: boolean;
  readonly expectedErrorMm: number | null;
}

/** One stage-2 run: the network (ensemble member), its (turned) crop and its heatmaps. */
interface Stage2Pass {
  readonly member: number;
  readonly rotationDeg: number;
  readonly roi: RoiGrid;
  readonly heatmaps: Float32Array;
}

/** The element-wise mean of equally long heatmap arrays. */
function meanHeatmaps(maps: readonly Float32Array[]): Float32Array {
  const [first] = maps;
  if (!first) throw new RangeError('meanHeatmaps: no heatmaps');
  if (maps.length === 1) return first;
  const out = new Float32Array(first.length);
  for (const m of maps) {
    if (m.length !== out.length) throw new RangeError('meanHeatmaps: heatmaps of different sizes');
    for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + (m[i] ?? 0);
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) / maps.length;
  return out;
}

/**
 * Stage-2 heatmaps -> one point per landmark (upright image pixels): the strongest peak, or with a decoding
 * file the candidate configuration the shape model finds plausible; with test-time passes (turned crops,
 * further ensemble members), each landmark's positions averaged over the passes and the configuration pulled
 * towards the shape model; the expected error of each.
 */
function decodeStage2(
  passes: readonly Stage2Pass[],
  spec: RefineStageSpec,
  landmarks: readonly LandmarkName[],
  roi: RoiGrid,
  decoding: DecodingParams | null,
): {
  points: DecodedPoint[];
  shapeDistance: number;
  reselected: LandmarkName[];
  uncertainty: UncertaintyFeatures[];
} {
  const [, channels, h, w] = spec.output.shape;
  for (const p of passes) {
    if (p.heatmaps.length !== channels * w * h)
      throw new Error(`heatmaps: ${p.heatmaps.length} values, expected ${channels}x${h}x${w}`);
  }
  const unturned = passes.filter((p) => p.rotationDeg === 0);
  const [first] = unturned;
  if (!first) throw new Error('stage 2: no unturned pass');
  const toImageIn = (g: RoiGrid, u: number, v: number): { x: number; y: number } =>
    roiToImage(g, heatmapToInput(u, spec.heatmapStride), heatmapToInput(v, spec.heatmapStride));
  const toImage = (u: number, v: number): { x: number; y: number } => toImageIn(roi, u, v);
  if (!decoding) {
    const peaks = heatmapPeaks(first.heatmaps, channels, w, h);
    const points = peaks.map((p) => ({
      ...toImage(p.u, p.v),
      confidence: p.value,
      atEdge: p.u <= 0 || p.v <= 0 || p.u >= w - 1 || p.v >= h - 1,
      expectedErrorMm: null,
    }));
    return { points, shapeDistance: 0, reselected: [], uncertainty: [] };
  }
  // The heatmaps the candidates come from: the first unturned pass, or the mean of all unturned passes.
  const merged = decoding.testTime?.combine === 'heatmaps' && unturned.length > 1;
  const heatmaps = merged ? meanHeatmaps(unturned.map((p) => p.heatmaps)) : first.heatmaps;
  const mmPerHeatmapPx = spec.mmPerPixel * spec.heatmapStride;
  const separation = CANDIDATE_SEPARATION_MM / mmPerHeatmapPx;
  const candidates = landmarks.map((_, c) => {
    const found = heatmapCandidates(heatmapChannel(heatmaps, w, h, c), MAX_CANDIDATES, separation, CANDIDATE_MIN_RATIO);
    if (found.length > 0) return found;
    const p = heatmapPeak(heatmaps, w, h, c * w * h);
    return [{ ...p, pu: Math.round(p.u), pv: Math.round(p.v) }];
  });
  const placed = candidates.map((cs) => cs.map((c) => ({ ...toImage(c.u, c.v), value: c.value })));
  const selection = selectConfiguration(decoding.shapeModel, placed);
  const chosen = candidates.map((cs, c) =>
    nth(cs, nth(selection.choice, c, 'the selected configuration'), `the candidates of landmark ${c}`),
  );
  const stats = chosen.map((cand, c) =>
    heatmapStats(heatmapChannel(heatmaps, w, h, c), cand.pu, cand.pv, decoding.expectedError, mmPerHeatmapPx),
  );
  // Image pixels per mm along x (the crop's scale; y is the same for square pixels).
  const pxPerMm = roi.sx / spec.mmPerPixel;
  const base = chosen.map((cand) => toImage(cand.u, cand.v));
  // Each pass: the strongest value near the chosen point, in that pass's heatmap (the pass the candidates came
  // from: the chosen point itself).
  const radius = (decoding.testTime?.searchRadiusMm ?? 0) / mmPerHeatmapPx;
  const own = passes.map((t) =>
    !merged && t === first
      ? base
      : base.map((p, c) => {
          const at = imageToRoi(t.roi, p.x, p.y);
          const u = (at.u + 0.5) / spec.heatmapStride - 0.5;
          const v = (at.v + 0.5) / spec.heatmapStride - 0.5;
          const q = localPeak(heatmapChannel(t.heatmaps, w, h, c), u, v, radius);
          return q ? toImageIn(t.roi, q.u, q.v) : p;
        }),
  );
  // The positions averaged: every pass's own, or (heatmaps combined) the mean heatmap's point for all the
  // unturned passes together, weighted by their number, plus the turned passes.
  const averaged: { weight: number; points: { x: number; y: number }[] }[] = merged
    ? [
        { weight: unturned.length, points: base },
        ...passes.flatMap((t, i) => (t.rotationDeg !== 0 ? [{ weight: 1, points: nth(own, i, 'the passes') }] : [])),
      ]
    : own.map((points) => ({ weight: 1, points }));
  const weightSum = averaged.reduce((a, e) => a + e.weight, 0);
  const at = (ps: readonly { x: number; y: number }[], c: number): { x: number; y: number } =>
    nth(ps, c, 'a test-time pass');
  const mean = base.map((_, c) => ({
    x: averaged.reduce((a, e) => a + e.weight * at(e.points, c).x, 0) / weightSum,
    y: averaged.reduce((a, e) => a + e.weight * at(e.points, c).y, 0) / weightSum,
  }));
  const ttaSpreadMm = mean.map(
    (m, c) =>
      Math.sqrt(
        averaged.reduce((a, e) => a + e.weight * ((at(e.points, c).x - m.x) ** 2 + (at(e.points, c).y - m.y) ** 2), 0) /
          weightSum,
      ) / pxPerMm,
  );
  // Member disagreement: each member's mean position over its own passes, their spread about their mean.
  const members = [...new Set(passes.map((p) => p.member))];
  const memberSpreadMm = base.map((_, c) => {
    if (members.length < 2) return 0;
    const centres = members.map((m) => {
      const ps = passes.flatMap((p, i) => (p.member === m ? [at(nth(own, i, 'the passes'), c)] : []));
      return { x: ps.reduce((a, q) => a + q.x, 0) / ps.length, y: ps.reduce((a, q) => a + q.y, 0) / ps.length };
    });
    const cx = centres.reduce((a, q) => a + q.x, 0) / centres.length;
    const cy = centres.reduce((a, q) => a + q.y, 0) / centres.length;
    return Math.sqrt(centres.reduce((a, q) => a + (q.x - cx) ** 2 + (q.y - cy) ** 2, 0) / centres.length) / pxPerMm;
  });
  const weight = decoding.testTime?.shapeWeight ?? 0;
  const final = regulariseShape(
    decoding.shapeModel,
    mean,
    stats.map((s) => s.spreadMm * pxPerMm),
    weight,
  );
  const uncertainty: UncertaintyFeatures[] = landmarks.map((_, c) => {
    const f = nth(final, c, 'the regularised shape');
    const m = nth(mean, c, 'the test-time mean');
    return {
      ...nth(stats, c, 'the heatmap statistics'),
      ttaSpreadMm: nth(ttaSpreadMm, c, 'the test-time spread'),
      shapeShiftMm: Math.hypot(f.x - m.x, f.y - m.y) / pxPerMm,
      memberSpreadMm: nth(memberSpreadMm, c, 'the member spread'),
    };
  });
  const points = landmarks.map((name, c) => {
    const cand = nth(chosen, c, 'the chosen candidates');
    return {
      ...nth(final, c, 'the regularised shape'),
      confidence: cand.value,
      atEdge: cand.u <= 0 || cand.v <= 0 || cand.u >= w - 1 || cand.v >= h - 1,
      expectedErrorMm: expectedErrorMm(decoding.expectedError, name, nth(uncertainty, c, 'the uncertainty features')),
    };
  });
  return {
    points,
    // Plausibility is judged before the regularisation, which must not hide a failed configuration.
    shapeDistance: shapeDistance(decoding.shapeModel, mean),
    reselected: selection.changed.map((i) => nth(landmarks, i, 'the landmarks')),
    uncertainty,
  };
}

/** Candidates per landmark, their minimum separation and minimum strength relative to the strongest. */
const MAX_CANDIDATES = 4;
const CANDIDATE_SEPARATION_MM = 2;
const CANDIDATE_MIN_RATIO = 0.03;
