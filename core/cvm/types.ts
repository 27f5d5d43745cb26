/** Types of the CVM staging engine: measurements, thresholds, results and errors. */
import type { PixelSpacingMm } from '../geometry/index';
import type { LandmarkName } from '../landmarks/index';
import type { ModelStaging } from './model-stage';

export type CvmStage = 'CS1' | 'CS2' | 'CS3' | 'CS4' | 'CS5' | 'CS6';
export const CVM_STAGES: readonly CvmStage[] = ['CS1', 'CS2', 'CS3', 'CS4', 'CS5', 'CS6'];

/** The stage at `index` in CVM_STAGES (0 = CS1); a RangeError for any other index. */
export function stageAt(index: number): CvmStage {
  const stage = CVM_STAGES[index];
  if (stage === undefined) throw new RangeError(`no CVM stage at index ${index} (0-5)`);
  return stage;
}

/** Body shape of C3 or C4 as the 2018 user's guide names it. */
export type ShapeClass = 'trapezoid' | 'rectangular-horizontal' | 'square' | 'rectangular-vertical';

/** Unit of every length in a Measurements object: mm when the pixel spacing is known, else image px. */
export type LengthUnit = 'mm' | 'px';

/** The lower border of a vertebra: its chord (corner to corner) and how deep the deepest point lies above it. */
export interface BorderConcavity {
  /** Distance of the deepest point from the chord, towards the vertebra's own body; negative when it bulges below. */
  readonly depth: number;
  /** Length of the chord between the posterior and anterior lower corners. */
  readonly chord: number;
  /** depth / chord (a fraction: 0.07 is 7%). */
  readonly share: number;
}

/** The body of C3 or C4, measured in the vertebra's own frame (independent of head tilt). */
export interface BodyMeasurements {
  readonly anteriorHeight: number;
  readonly posteriorHeight: number;
  /** Upper border, corner to corner. */
  readonly superiorWidth: number;
  /** Lower border chord, corner to corner. */
  readonly inferiorWidth: number;
  /** Distance between the midpoints of the anterior and posterior borders. */
  readonly width: number;
  /** Distance between the midpoint of the upper border and the midpoint of the lower chord. */
  readonly height: number;
  /** width / height (midline definition). */
  readonly ratio: number;
  /** anteriorHeight / posteriorHeight: clearly below 1 for a trapezoid. */
  readonly heightRatio: number;
  /** superiorWidth / inferiorWidth. */
  readonly widthRatio: number;
  /** superiorWidth / posteriorHeight: the width/height ratio of the cvmt project. */
  readonly superiorWidthToPosteriorHeight: number;
  /** Shape class by the thresholds measure() was given (the defaults unless told otherwise). */
  readonly shape: ShapeClass;
}

export interface Measurements {
  /** Unit of every length below; 'px' means the spacing is unknown and lengths are image pixels. */
  readonly unit: LengthUnit;
  readonly spacing: PixelSpacingMm | null;
  /** Which way the patient faces in the image, found from the landmarks (anterior corners vs posterior). */
  readonly facing: 'right' | 'left';
  readonly C2: { readonly concavity: BorderConcavity };
  readonly C3: { readonly concavity: BorderConcavity; readonly body: BodyMeasurements };
  readonly C4: { readonly concavity: BorderConcavity; readonly body: BodyMeasurements };
}

export type StagingErrorCode =
  | 'missing-landmark'
  | 'not-finite'
  | 'invalid-spacing'
  | 'coincident-points'
  | 'inside-out'
  | 'deepest-point-outside-border';

/** Why landmarks could not be measured: a value, never an exception. */
export interface StagingError {
  readonly code: StagingErrorCode;
  /** One sentence naming the landmarks and the problem. */
  readonly message: string;
  readonly landmarks: readonly LandmarkName[];
}

export type MeasureResult =
  { readonly ok: true; readonly value: Measurements } | { readonly ok: false; readonly error: StagingError };

export type ComparisonUnit = 'mm' | 'px' | '%' | 'ratio';

/** One measurement held against one threshold. */
export interface Comparison {
  /** Stable id, usable as a data-testid suffix: 'C3.concavity', 'C3.concavityMm', 'C4.heightRatio', 'C4.ratio', ... */
  readonly id: string;
  /** What was measured, in words. */
  readonly label: string;
  readonly value: number;
  readonly unit: ComparisonUnit;
  /** The threshold it was held against (for the width/height ratio: the nearer of the two square limits). */
  readonly threshold: number;
  /** The outcome in words, e.g. "concave: 9.1% of the chord >= 7.0%". */
  readonly outcome: string;
  /** Whether the outcome decided the stage: inverting it alone would change the result. */
  readonly deciding: boolean;
  /** Whether the value lies within the tolerance of its threshold. */
  readonly withinTolerance: boolean;
}

export interface Borderline {
  /**
   * The stage found and the stage the deciding measurement would give on the other side of its threshold, in stage
   * order.
   */
  readonly candidates: readonly [CvmStage, CvmStage];
  /** Comparison id of the deciding measurement within tolerance. */
  readonly measurement: string;
  readonly detail: string;
}

/** What the textbook criteria found: which lower borders are concave and each body's shape (trapezoid test first). */
export interface TextbookFindings {
  readonly concave: readonly [boolean, boolean, boolean];
  readonly shapes: readonly [ShapeClass, ShapeClass];
}

export type StageResult =
  | {
      readonly kind: 'stage';
      readonly stage: CvmStage;
      readonly borderline: Borderline | null;
      /** The rule that decided, in words. */
      readonly rule: string;
      readonly comparisons: readonly Comparison[];
      readonly peakGrowth: string;
      /** Caveats, e.g. that mm thresholds were skipped because the spacing is unknown. */
      readonly notes: readonly string[];
      /** Name of the threshold preset used. */
      readonly preset: string;
      readonly findings?: TextbookFindings;
    }
  | {
      readonly kind: 'no-fit';
      /** Stages whose definition the findings miss by the fewest criteria, in stage order. */
      readonly nearest: readonly CvmStage[];
      readonly reason: string;
      readonly comparisons: readonly Comparison[];
      readonly notes: readonly string[];
      readonly preset: string;
      readonly findings?: TextbookFindings;
    };

export type Assessment =
  | {
      readonly ok: true;
      readonly measurements: Measurements;
      /** The textbook criteria (2018 guide): the explanation. */
      readonly result: StageResult;
      /** The clinician-fitted model's probabilities and stage: the answer. */
      readonly staging: ModelStaging;
    }
  | { readonly ok: false; readonly error: StagingError };

/**
 * Every number the staging rules use. The 2018 user's guide gives no numbers, so these are parameters;
 * see DEFAULT_THRESHOLDS and CVMT_THRESHOLDS for the documented presets.
 */
export interface Thresholds {
  /** Short name shown with every result ('default', 'cvmt'). */
  readonly name: string;
  readonly description: string;
  readonly concavity: {
    /** A lower border is concave when depth / chord >= this (0.07 = 7%). */
    readonly minShareOfChord: number;
    /** ...and the depth >= this many mm (skipped when the spacing is unknown); null: no mm criterion. */
    readonly minDepthMm: number | null;
    /**
     * Whether the share criterion applies when the spacing is known. false: mm alone decides then (cvmt);
     * the share criterion always applies when the spacing is unknown, because mm cannot.
     */
    readonly shareAppliesWithSpacing: boolean;
  };
  readonly shape: {
    /** Which width/height ratio classifies the body: the midline one, or cvmt's superior width / posterior height. */
    readonly ratio: 'midline' | 'superior-width-over-posterior-height';
    /** A body is trapezoid when anterior height / posterior height < this. */
    readonly trapezoidMaxHeightRatio: number;
    /** ...or when superior width / inferior width < this; null: not used. */
    readonly trapezoidMaxWidthRatio: number | null;
    /**
     * Ratio below this: rectangular vertical; from this to squareMax inclusive: square; above: rectangular horizontal.
     */
    readonly squareMin: number;
    readonly squareMax: number;
  };
  /** How close to a threshold counts as borderline (absolute, in the unit of the measurement). */
  readonly tolerance: {
    /** In share of the chord (0.015 = 1.5 percentage points). */
    readonly concavityShare: number;
    readonly concavityMm: number;
    readonly heightRatio: number;
    readonly widthRatio: number;
    readonly ratio: number;
  };
  /**
   * 'guide-2018': the table of the 2018 user's guide, exactly; other patterns fit no stage.
   * 'cvmt': the cvmt project's rules: a concave C3 or C4 implies a concave C2 (and C4 implies C3), CS3 needs a
   * trapezoid C3, and CS4-CS6 are decided by the first vertebra that is rectangular horizontal, else square, else
   * rectangular vertical (whatever its trapezoid test said).
   */
  readonly rules: 'guide-2018' | 'cvmt';
}
