/**
 * The one-page report of a hand-wrist radiograph (renderer/features/study/report.ts draws it, PDF and PNG from
 * the same ops): header as for a cephalogram; the whole radiograph (left); the bone age (years and months), its
 * interval, sex and its source, chronological age and the difference in months and SD (reference named), and
 * the model's limits (right); provenance, review and "decision aid" wording at the foot. What a reviewer
 * approves for such an image is this bone age (core/review/boneage-approval.ts).
 */
import type { BoneAgeView } from '../../../core/api/boneage';
import type { StudyDetail } from '../../../core/api/studies';
import { boneAgeText, comparisonText, formatYearsMonths } from '../../../core/boneage/index';

/** An RGB colour, 0..1 per channel (pdf-lib's rgb()). */
export type Color = readonly [number, number, number];
/** How a line of text is drawn. */
export interface TextStyle {
  readonly bold?: boolean;
  readonly color?: Color;
}
/** A wrapped paragraph: `maxLines` cuts the last line with an ellipsis; `leading` in points. */
export interface ParaStyle extends TextStyle {
  readonly maxLines?: number;
  readonly leading?: number;
}
/** How a rectangle is drawn. */
export interface BoxStyle {
  readonly fill?: Color;
  readonly stroke?: Color;
  readonly lw?: number;
}

/** What this layout needs from report.ts's Layout (kept structural, so report.ts alone imports this file). */
export interface ReportPen {
  width(text: string, size: number, bold?: boolean): number;
  text(x: number, y: number, text: string, size: number, opts?: TextStyle): void;
  para(x: number, y: number, text: string, size: number, maxWidth: number, opts?: ParaStyle): number;
  rect(x: number, y: number, w: number, h: number, o: BoxStyle): void;
  line(x1: number, y1: number, x2: number, y2: number, color?: Color, lw?: number): void;
}

export interface ReportPalette {
  readonly INK: Color;
  readonly MUTED: Color;
  readonly RED: Color;
  readonly AMBER: Color;
  readonly GREEN: Color;
}

/** Whether the report of this study is the bone-age report. */
export function isBoneAgeReport(boneAge: BoneAgeView | null | undefined): boneAge is BoneAgeView {
  return boneAge?.kind?.kind === 'hand';
}

export const BONE_AGE_REPORT_TITLE = 'Hand-wrist bone age report';

/**
 * Draws the bone-age column right of the radiograph box and returns the y below it. `x`, `w`: the column;
 * `y`: its top.
 */
export function layoutBoneAgeColumn(
  L: ReportPen,
  view: BoneAgeView,
  x: number,
  y: number,
  w: number,
  c: ReportPalette,
): number {
  let ys = y + 10;
  L.text(x, ys, 'BONE AGE', 8, { bold: true, color: c.MUTED });
  ys += 8;
  const b = view.latest;
  if (!b) {
    ys += 24;
    L.text(x, ys, 'not estimated', 24, { bold: true, color: c.MUTED });
    ys += 14;
    return L.para(
      x,
      ys,
      view.sex ? 'Estimate the bone age in the workstation.' : 'The patient’s sex is needed before a bone age.',
      9,
      w,
      { color: c.MUTED },
    );
  }
  let size = 30;
  const headline = formatYearsMonths(b.months);
  while (size > 14 && L.width(headline, size, true) > w) size -= 1;
  ys += size;
  L.text(x, ys, headline, size, { bold: true, color: c.INK });
  ys += 16;
  ys = L.para(
    x,
    ys,
    `${Math.round(b.interval.level * 100)}% interval ${formatYearsMonths(b.interval.low)} to ${formatYearsMonths(b.interval.high)} (${b.months.toFixed(0)} months, ${b.interval.low.toFixed(0)}–${b.interval.high.toFixed(0)})`,
    9,
    w,
    { bold: true },
  );
  ys = L.para(x, ys + 2, `For a ${b.sex === 'M' ? 'boy' : 'girl'} (sex: ${b.sexSource}).`, 8.5, w);
  if (view.sex && view.sex !== b.sex)
    ys = L.para(x, ys, 'The recorded sex has changed since this estimate: estimate again.', 8.5, w, {
      bold: true,
      color: c.RED,
    });
  const cmp = comparisonText(view.comparison, b.sex);
  if (cmp) {
    const far = view.comparison !== null && Math.abs(view.comparison.sdScore) > 2;
    ys = L.para(x, ys + 2, cmp, 8.5, w, { color: far ? c.AMBER : c.INK, maxLines: 5 });
  } else {
    ys = L.para(x, ys + 2, 'Chronological age unknown: no comparison with age.', 8.5, w, { color: c.MUTED });
  }
  if (b.members.length > 1) {
    const lo = Math.min(...b.members);
    const hi = Math.max(...b.members);
    ys = L.para(
      x,
      ys + 2,
      `The ${b.members.length} fold models of the ensemble range from ${lo.toFixed(0)} to ${hi.toFixed(0)} months.`,
      7.5,
      w,
      { color: c.MUTED, maxLines: 2 },
    );
  }
  // the model's limits, in a box
  ys += 6;
  const top = ys;
  ys += 12;
  L.text(x + 6, ys, 'LIMITS', 8, { bold: true, color: c.MUTED });
  ys += 11;
  for (const line of view.modelCard)
    ys = L.para(x + 6, ys, `• ${line}`, 7.5, w - 12, { color: c.MUTED, maxLines: 4, leading: 9.5 });
  L.rect(x, top, w, ys - top, { stroke: c.AMBER, lw: 0.9 });
  return ys;
}

/** The footer facts of a bone-age report (provenance, review, author). */
export function boneAgeFooterFacts(detail: StudyDetail, view: BoneAgeView, author: string, now: Date): string[] {
  const b = view.latest;
  const k = view.kind;
  return [
    `Radiograph kind: ${k ? `${k.kind} (P ${Math.round((k.probabilities[k.kind] ?? 0) * 100)}%, ${k.model.id} ${k.model.version})` : '—'}; the whole image is squashed to 100×100 pixels for the bone-age model.`,
    `Model: ${b ? `${b.model.id} ${b.model.version} (manifest ${b.model.sha256.slice(0, 12)}), ${b.createdAt.slice(0, 16).replace('T', ' ')} UTC; ${boneAgeText(b)}` : 'no estimate'}`,
    `Review: ${detail.review.status === 'approved' ? `bone age approved by ${detail.review.by ?? '—'} on ${(detail.review.at ?? '').slice(0, 16).replace('T', ' ')} UTC` : `${detail.review.status} — NOT APPROVED`}`,
    `Report created by ${author || '—'} on ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC with CVM Workstation.`,
  ];
}

export const BONE_AGE_DECISION_AID =
  'Decision aid: the bone age supports, and does not replace, the clinician’s reading of the radiograph (Greulich–Pyle). The model learned from the RSNA Pediatric Bone Age data at 100×100 pixels and has not been validated on this clinic’s devices.';
