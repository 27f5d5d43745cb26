/**
 * Measurements + thresholds -> CVM stage with its explanation.
 *
 * Each criterion (a measurement against one threshold) is one bit of a findings mask, so the decision is a pure
 * function of an integer. A criterion "decides" when inverting its bit alone changes the result; a deciding
 * criterion within tolerance of its threshold makes the result borderline between the two stages.
 */
import { shapeRatio } from './measure';
import { PEAK_GROWTH } from './growth';
import {
  CVM_STAGES,
  stageAt,
  type Comparison,
  type CvmStage,
  type Measurements,
  type ShapeClass,
  type StageResult,
  type TextbookFindings,
  type Thresholds,
} from './types';
import { DEFAULT_THRESHOLDS } from './thresholds';

// Bits of the findings mask. A set bit means the criterion passed; inactive criteria stay set.
const SHARE = [0, 1, 2] as const; // C2, C3, C4 concavity share >= threshold
const DEPTH = [3, 4, 5] as const; // C2, C3, C4 concavity depth in mm >= threshold
const HEIGHT_RATIO = [6, 7] as const; // C3, C4 anterior/posterior height >= trapezoid threshold
const WIDTH_RATIO = [8, 9] as const; // C3, C4 superior/inferior width >= trapezoid threshold
const RATIO_MIN = [10, 11] as const; // C3, C4 width/height >= squareMin
const RATIO_MAX = [12, 13] as const; // C3, C4 width/height > squareMax

const bit = (mask: number, b: number): boolean => (mask & (1 << b)) !== 0;

// Shapes as small integers, allowed sets as bit masks over them.
const T = 0,
  RH = 1,
  SQ = 2,
  RV = 3;
const SHAPE_WORDS = ['trapezoid', 'rectangular horizontal', 'square', 'rectangular vertical'] as const;
const set = (...shapes: number[]): number => shapes.reduce((m, s) => m | (1 << s), 0);

interface StageDefinition {
  readonly concave: readonly [boolean, boolean, boolean];
  readonly c3: number;
  readonly c4: number;
  /** One of C3, C4 must have this shape (-1: no such requirement). */
  readonly atLeastOne: number;
  readonly words: string;
}

/** The table of the 2018 user's guide (design section 4). */
const GUIDE: readonly StageDefinition[] = [
  {
    concave: [false, false, false],
    c3: set(T),
    c4: set(T),
    atLeastOne: -1,
    words: 'no concave lower border; C3 and C4 both trapezoid',
  },
  {
    concave: [true, false, false],
    c3: set(T),
    c4: set(T),
    atLeastOne: -1,
    words: 'concave lower border of C2 only; C3 and C4 both trapezoid',
  },
  {
    concave: [true, true, false],
    c3: set(T, RH),
    c4: set(T, RH),
    atLeastOne: -1,
    words: 'concave lower borders of C2 and C3, not C4; C3 and C4 each trapezoid or rectangular horizontal',
  },
  {
    concave: [true, true, true],
    c3: set(RH),
    c4: set(RH),
    atLeastOne: -1,
    words: 'concave lower borders of C2, C3 and C4; C3 and C4 both rectangular horizontal',
  },
  {
    concave: [true, true, true],
    c3: set(SQ, RH),
    c4: set(SQ, RH),
    atLeastOne: SQ,
    words:
      'concave lower borders of C2, C3 and C4; at least one of C3 and C4 square, the other square or rectangular horizontal',
  },
  {
    concave: [true, true, true],
    c3: set(RV, SQ),
    c4: set(RV, SQ),
    atLeastOne: RV,
    words:
      'concave lower borders of C2, C3 and C4; at least one of C3 and C4 rectangular vertical, the other square or rectangular vertical',
  },
];

interface Findings {
  readonly concave: readonly [boolean, boolean, boolean];
  /** Shape of C3 and C4 with the trapezoid test first (guide). */
  readonly shape: readonly [number, number];
  /** Class by the width/height ratio alone (cvmt decides CS4-CS6 by it). */
  readonly ratioClass: readonly [number, number];
  readonly trapezoid: readonly [boolean, boolean];
}

function findings(mask: number): Findings {
  const t3 = !(bit(mask, HEIGHT_RATIO[0]) && bit(mask, WIDTH_RATIO[0]));
  const t4 = !(bit(mask, HEIGHT_RATIO[1]) && bit(mask, WIDTH_RATIO[1]));
  const r3 = !bit(mask, RATIO_MIN[0]) ? RV : bit(mask, RATIO_MAX[0]) ? RH : SQ;
  const r4 = !bit(mask, RATIO_MIN[1]) ? RV : bit(mask, RATIO_MAX[1]) ? RH : SQ;
  return {
    concave: [
      bit(mask, SHARE[0]) && bit(mask, DEPTH[0]),
      bit(mask, SHARE[1]) && bit(mask, DEPTH[1]),
      bit(mask, SHARE[2]) && bit(mask, DEPTH[2]),
    ],
    trapezoid: [t3, t4],
    ratioClass: [r3, r4],
    shape: [t3 ? T : r3, t4 ? T : r4],
  };
}

/** Criteria of `def` the findings miss; 0 when the stage fits. */
function misses(def: StageDefinition, f: Findings, out?: string[]): number {
  let n = 0;
  for (let v = 0; v < 3; v++) {
    if (def.concave[v] !== f.concave[v]) {
      n++;
      out?.push(`C${v + 2} ${f.concave[v] ? 'concave' : 'flat'}`);
    }
  }
  let shapeMisses = 0;
  for (let i = 0; i < 2; i++) {
    const shape = f.shape[i as 0];
    if (((i === 0 ? def.c3 : def.c4) & (1 << shape)) === 0) {
      shapeMisses++;
      out?.push(`C${i + 3} ${SHAPE_WORDS[shape]}`);
    }
  }
  n += shapeMisses;
  if (shapeMisses === 0 && def.atLeastOne >= 0 && f.shape[0] !== def.atLeastOne && f.shape[1] !== def.atLeastOne) {
    n++;
    out?.push(`neither C3 nor C4 ${SHAPE_WORDS[def.atLeastOne]}`);
  }
  return n;
}

/** The guide's row for the stage at `index` (GUIDE lists CS1..CS6 in order). */
function guideRow(index: number): StageDefinition {
  const row = GUIDE[index];
  if (row === undefined) throw new RangeError(`the 2018 guide has no stage at index ${index}`);
  return row;
}

/** Index of the stage the findings give, or -1 when none fits. */
function decide(mask: number, rules: Thresholds['rules']): number {
  const f = findings(mask);
  if (rules === 'guide-2018') {
    for (const [i, def] of GUIDE.entries()) if (misses(def, f) === 0) return i;
    return -1;
  }
  // cvmt: concavity of a lower vertebra implies concavity of those above it.
  const c4 = f.concave[2];
  const c3 = f.concave[1] || c4;
  const c2 = f.concave[0] || c3;
  const [t3, t4] = f.trapezoid;
  const [r3, r4] = f.ratioClass;
  if (!c2 && t3 && t4) return 0;
  if (c2 && !c3 && t3 && t4) return 1;
  if (c2 && c3 && !c4 && t3 && (t4 || r4 === RH)) return 2;
  if (c4) {
    if (r3 === RH || r4 === RH) return 3;
    if (r3 === SQ || r4 === SQ) return 4;
    return 5;
  }
  return -1;
}

const pct = (v: number): string => (v * 100).toFixed(1);
/**
 * A fraction as a percentage, without floating-point noise in the digits of a threshold (0.07 -> 7, not
 * 7.000000000000001).
 */
const percent = (v: number): number => Math.round(v * 1e8) / 1e6;
const num = (v: number, digits = 2): string => v.toFixed(digits);
/** A value with its unit: "6.53%", "0.85 mm", "0.85" (ratio). */
const withUnit = (v: number, unit: Comparison['unit']): string =>
  unit === 'ratio' ? num(v) : unit === '%' ? `${num(v)}%` : `${num(v)} ${unit}`;

interface Criterion {
  readonly bit: number;
  readonly id: string;
  readonly label: string;
  readonly value: number;
  readonly unit: Comparison['unit'];
  readonly threshold: number;
  readonly tolerance: number;
  readonly outcome: string;
}

/** Stages CS1-CS6 from measurements, by the 2018 user's guide table (or the cvmt rules when the thresholds say so). */
export function stage(m: Measurements, thresholds: Thresholds = DEFAULT_THRESHOLDS): StageResult {
  const th = thresholds;
  const mmKnown = m.unit === 'mm';
  const shareApplies = !mmKnown || th.concavity.shareAppliesWithSpacing || th.concavity.minDepthMm === null;
  const depthApplies = mmKnown && th.concavity.minDepthMm !== null;
  const notes: string[] = [];
  if (!mmKnown) {
    notes.push(
      th.concavity.minDepthMm !== null && !th.concavity.shareAppliesWithSpacing
        ? `Pixel spacing unknown: lengths are in px; the ${th.concavity.minDepthMm} mm concavity threshold cannot be applied, so concavity is judged by its share of the chord (>= ${pct(th.concavity.minShareOfChord)}%) instead.`
        : `Pixel spacing unknown: lengths are in px; concavity is judged by its share of the chord only${th.concavity.minDepthMm !== null ? ` (the ${th.concavity.minDepthMm} mm floor is skipped)` : ''}.`,
    );
  }

  const criteria: Criterion[] = [];
  let mask = 0;
  const add = (c: Criterion, pass: boolean): void => {
    criteria.push(c);
    if (pass) mask |= 1 << c.bit;
  };
  const vertebrae = [m.C2, m.C3, m.C4] as const;
  for (const [v, vertebra] of vertebrae.entries()) {
    const name = `C${v + 2}`;
    const c = vertebra.concavity;
    const shareT = th.concavity.minShareOfChord;
    const depthT = th.concavity.minDepthMm ?? 0;
    const sharePass = !shareApplies || c.share >= shareT;
    const depthPass = !depthApplies || c.depth >= depthT;
    // Concave needs every applicable criterion; a criterion met while another fails says so.
    const outcome = (pass: boolean, comparison: string, other: string): string =>
      !pass
        ? `flat: ${comparison.replace('>=', '<')}`
        : sharePass && depthPass
          ? `concave: ${comparison}`
          : `${comparison}, but flat by its ${other}`;
    if (shareApplies) {
      add(
        {
          bit: SHARE[v as 0],
          id: `${name}.concavity`,
          label: `${name} lower-border concavity, depth as a share of the chord`,
          value: c.share * 100,
          unit: '%',
          threshold: percent(shareT),
          tolerance: percent(th.tolerance.concavityShare),
          outcome: outcome(sharePass, `${pct(c.share)}% of the chord >= ${pct(shareT)}%`, 'depth in mm'),
        },
        sharePass,
      );
    } else mask |= 1 << SHARE[v as 0];
    if (depthApplies) {
      add(
        {
          bit: DEPTH[v as 0],
          id: `${name}.concavityMm`,
          label: `${name} lower-border concavity depth`,
          value: c.depth,
          unit: 'mm',
          threshold: depthT,
          tolerance: th.tolerance.concavityMm,
          outcome: outcome(depthPass, `${num(c.depth)} mm deep >= ${num(depthT)} mm`, 'share of the chord'),
        },
        depthPass,
      );
    } else mask |= 1 << DEPTH[v as 0];
  }
  const bodies = [m.C3.body, m.C4.body] as const;
  for (const [i, b] of bodies.entries()) {
    const name = `C${i + 3}`;
    const hr = th.shape.trapezoidMaxHeightRatio;
    const hrPass = b.heightRatio >= hr;
    add(
      {
        bit: HEIGHT_RATIO[i as 0],
        id: `${name}.heightRatio`,
        label: `${name} anterior height / posterior height`,
        value: b.heightRatio,
        unit: 'ratio',
        threshold: hr,
        tolerance: th.tolerance.heightRatio,
        outcome: hrPass
          ? `not tapered: ${num(b.heightRatio)} >= ${num(hr)}`
          : `trapezoid: anterior height ${num(b.heightRatio)} of posterior < ${num(hr)}`,
      },
      hrPass,
    );
    const wr = th.shape.trapezoidMaxWidthRatio;
    const wrPass = wr === null || b.widthRatio >= wr;
    const tapered = !(hrPass && wrPass);
    if (wr !== null) {
      add(
        {
          bit: WIDTH_RATIO[i as 0],
          id: `${name}.widthRatio`,
          label: `${name} superior width / inferior width`,
          value: b.widthRatio,
          unit: 'ratio',
          threshold: wr,
          tolerance: th.tolerance.widthRatio,
          outcome: wrPass
            ? `not tapered: ${num(b.widthRatio)} >= ${num(wr)}`
            : `trapezoid: superior width ${num(b.widthRatio)} of inferior < ${num(wr)}`,
        },
        wrPass,
      );
    } else mask |= 1 << WIDTH_RATIO[i as 0];
    const r = shapeRatio(b, th);
    const { squareMin, squareMax } = th.shape;
    const aboveMin = r >= squareMin;
    const aboveMax = r > squareMax;
    if (aboveMin) mask |= 1 << RATIO_MIN[i as 0];
    if (aboveMax) mask |= 1 << RATIO_MAX[i as 0];
    const nearMax = Math.abs(r - squareMax) < Math.abs(r - squareMin);
    const ratioName = th.shape.ratio === 'midline' ? 'width / height' : 'superior width / posterior height';
    criteria.push({
      bit: nearMax ? RATIO_MAX[i as 0] : RATIO_MIN[i as 0],
      id: `${name}.ratio`,
      label: `${name} ${ratioName}`,
      value: r,
      unit: 'ratio',
      threshold: nearMax ? squareMax : squareMin,
      tolerance: th.tolerance.ratio,
      outcome:
        (!aboveMin
          ? `rectangular vertical: ${num(r)} < ${num(squareMin)}`
          : aboveMax
            ? `rectangular horizontal: ${num(r)} > ${num(squareMax)}`
            : `square: ${num(r)} within ${num(squareMin)}-${num(squareMax)}`) +
        (tapered ? ' (but a trapezoid by its taper)' : ''),
    });
  }

  const found = decide(mask, th.rules);
  let borderline: { criterion: Criterion; alternative: number; closeness: number } | null = null;
  const comparisons: Comparison[] = [];
  const alternatives: string[] = [];
  const alternativeStages = new Set<number>();
  for (const c of criteria) {
    const flipped = decide(mask ^ (1 << c.bit), th.rules);
    const deciding = flipped !== found;
    const gap = Math.abs(c.value - c.threshold);
    const withinTolerance = gap <= c.tolerance;
    comparisons.push({
      id: c.id,
      label: c.label,
      value: c.value,
      unit: c.unit,
      threshold: c.threshold,
      outcome: c.outcome,
      deciding,
      withinTolerance,
    });
    if (!deciding || !withinTolerance) continue;
    if (found >= 0 && flipped >= 0) {
      const closeness = c.tolerance > 0 ? gap / c.tolerance : 0;
      if (borderline === null || closeness < borderline.closeness)
        borderline = { criterion: c, alternative: flipped, closeness };
    } else if (flipped >= 0) {
      alternativeStages.add(flipped);
      alternatives.push(
        `${c.id} (${withUnit(c.value, c.unit)}) lies within tolerance of ${withUnit(c.threshold, c.unit)}: on the other side it would give ${CVM_STAGES[flipped]}.`,
      );
    } else {
      notes.push(
        `${c.id} (${withUnit(c.value, c.unit)}) lies within tolerance of ${withUnit(c.threshold, c.unit)}: on the other side no stage would fit.`,
      );
    }
  }

  const f = findings(mask);
  if (found < 0) {
    const counts = GUIDE.map((def) => misses(def, f));
    const fewest = Math.min(...counts);
    const nearest = CVM_STAGES.filter((_, i) => counts[i] === fewest || alternativeStages.has(i));
    const why = nearest.map((s) => {
      const out: string[] = [];
      misses(guideRow(CVM_STAGES.indexOf(s)), f, out);
      return out.length > 0 ? `${s} differs in: ${out.join(', ')}` : `${s} fits the 2018 table but not the cvmt rules`;
    });
    return {
      kind: 'no-fit',
      nearest,
      reason: `No stage fits ${describe(f)}. Nearest: ${why.join('; ')}.${alternatives.length > 0 ? ` ${alternatives.join(' ')}` : ''}`,
      comparisons,
      notes,
      preset: th.name,
      findings: readable(f),
    };
  }

  const stageFound = stageAt(found);
  let border: Extract<StageResult, { kind: 'stage' }>['borderline'] = null;
  if (borderline !== null) {
    const c = borderline.criterion;
    const other = stageAt(borderline.alternative);
    const pair = [stageFound, other].sort() as [CvmStage, CvmStage];
    border = {
      candidates: pair,
      measurement: c.id,
      detail: `${c.label} is ${withUnit(c.value, c.unit)}, within ${withUnit(c.tolerance, c.unit)} of the threshold ${withUnit(c.threshold, c.unit)}: on the other side the stage would be ${other}.`,
    };
  }
  const ruleWords =
    th.rules === 'guide-2018'
      ? `${stageFound} by the 2018 user's guide: ${guideRow(found).words}.`
      : `${stageFound} by the cvmt rules${impliedConcavity(f)}.`;
  return {
    kind: 'stage',
    stage: stageFound,
    borderline: border,
    rule: `Found ${describe(f)}. ${ruleWords}`,
    comparisons,
    peakGrowth: PEAK_GROWTH[stageFound],
    notes,
    preset: th.name,
    findings: readable(f),
  };
}

const SHAPE_CLASSES: readonly ShapeClass[] = ['trapezoid', 'rectangular-horizontal', 'square', 'rectangular-vertical'];

function shapeClass(index: number): ShapeClass {
  const c = SHAPE_CLASSES[index];
  if (c === undefined) throw new RangeError(`no shape class at index ${index}`);
  return c;
}

function readable(f: Findings): TextbookFindings {
  return { concave: [...f.concave], shapes: [shapeClass(f.shape[0]), shapeClass(f.shape[1])] };
}

/**
 * The criteria of the 2018 user's guide's row for `target` that the findings miss, in plain words ([] when it fits).
 */
export function missedCriteria(findings: TextbookFindings, target: CvmStage): string[] {
  const shape = findings.shapes.map((s) => SHAPE_CLASSES.indexOf(s)) as [number, number];
  const f: Findings = {
    concave: findings.concave,
    shape,
    ratioClass: shape,
    trapezoid: [shape[0] === T, shape[1] === T],
  };
  const out: string[] = [];
  misses(guideRow(CVM_STAGES.indexOf(target)), f, out);
  return out.map((m) => {
    const [v, ...rest] = m.split(' ');
    const what = rest.join(' ');
    if (what === 'flat') return `the ${v} lower border is still flat`;
    if (what === 'concave') return `the ${v} lower border is already concave`;
    if (what === 'trapezoid') return `${v} is still tapered (trapezoid)`;
    if (v === 'neither') return m;
    return `${v} is ${what}`;
  });
}

function describe(f: Findings): string {
  const concave = ['C2', 'C3', 'C4'].filter((_, v) => f.concave[v]);
  const flat = ['C2', 'C3', 'C4'].filter((_, v) => !f.concave[v]);
  const borders =
    concave.length === 0
      ? 'no concave lower border'
      : `concave lower border${concave.length > 1 ? 's' : ''} of ${concave.join(', ')}${flat.length > 0 ? ` (${flat.join(', ')} flat)` : ''}`;
  return `${borders}; C3 ${SHAPE_WORDS[f.shape[0]]}, C4 ${SHAPE_WORDS[f.shape[1]]}`;
}

function impliedConcavity(f: Findings): string {
  const [c2, c3, c4] = f.concave;
  const implied = [!c2 && (c3 || c4) ? 'C2' : '', !c3 && c4 ? 'C3' : ''].filter((s) => s !== '');
  const parts = [
    implied.length > 0 ? `, which count ${implied.join(' and ')} as concave because a lower vertebra is` : '',
  ];
  if (c4)
    parts.push(
      '; CS4-CS6 go by the first rectangular horizontal, else square, else rectangular vertical width/height ratio of C3 or C4',
    );
  return parts.join('');
}
