/**
 * The one-page study report a clinician signs: A4 PDF (pdf-lib, DejaVu Sans embedded as a subset) and the
 * same page as PNG (150 dpi). One layout (page points, origin top left) is drawn by two back ends, with the
 * same font metrics, so the PDF and the PNG say and show the same thing:
 * header with patient, age ("13 y 8 m"), sex, study date and file; the C2-C4 crop, centred and filling its
 * box, with outlines, landmark names and a scale bar; the stage with its probabilities and runner-up,
 * borderline, rule and growth timing; the quality verdict and every warning; with two or more visits of the
 * patient, the growth chart (chart.js, the study view's series) with the visits and "peak likely passed
 * between ..."; the criteria; spacing and its
 * source, model and version, landmark version, reviewer and time; "decision aid" wording.
 * A hand-wrist radiograph gets the bone-age report instead (report-boneage.ts: the whole radiograph, the bone
 * age with its interval, sex and comparison with age, the model's limits), from the same layout and back ends.
 * Loaded on demand (it carries the fonts).
 */
import { PDFDocument, rgb, type PDFFont } from 'pdf-lib';
import fontkit from '@pdf-lib/fontkit';
import sansUrl from 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf?url';
import boldUrl from 'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf?url';
import type { BoneAgeView } from '../../../core/api/boneage';
import type { TimelineResponse } from '../../../core/api/pacs';
import { toLandmarkSet, type StudyDetail } from '../../../core/api/studies';
import {
  CVM_STAGES,
  PEAK_GROWTH,
  expectedErrorSentences,
  stageLabel,
  summariseExpectedErrors,
  type Assessment,
  type ExpectedErrorSummary,
} from '../../../core/cvm/index';
import { LANDMARK_NAMES, type LandmarkName, type LandmarkSet } from '../../../core/landmarks/index';
import type { ModelQuality } from '../../../core/review/approval';
import type { Plausibility } from '../../../core/review/plausibility';
import { confidenceLevel, expectedErrorsOf, LEVEL_COLOR } from '../../canvas/confidence';
import { OUTLINES, landmarkBounds } from '../../canvas/outlines';
import { formatAge, formatProvider, formatSpacing, humanizeIds, sentences } from '../format';
import { api } from '../../api';
import { drawGrowthChart, growthSeries, PRINT_THEME } from '../pacs/growthChart';
import { boneAgeText } from '../../../core/boneage/index';
import { labelsOf } from './StagePanel';
import './boneAgeChart'; // registers the bone-age series of the growth chart
import {
  BONE_AGE_DECISION_AID,
  BONE_AGE_REPORT_TITLE,
  boneAgeFooterFacts,
  isBoneAgeReport,
  layoutBoneAgeColumn,
  type BoxStyle,
  type Color,
  type ParaStyle,
  type ReportPen,
  type TextStyle,
} from './report-boneage';

export interface ReportInput {
  readonly detail: StudyDetail;
  /** The windowed radiograph as displayed (image pixels). */
  readonly image: HTMLCanvasElement;
  readonly landmarks: LandmarkSet;
  readonly assessment: Assessment | null;
  readonly plausibility: Plausibility | null;
  readonly quality: ModelQuality | null;
  readonly author: string;
  readonly now: Date;
  /**
   * The patient's visits (growth chart and peak timing, drawn when there are two or more); undefined: fetched
   * by exportReport/printReport, null: none.
   */
  readonly timeline?: TimelineResponse | null;
  /** The image's bone-age view (api.getBoneAge): a hand-wrist radiograph gets the bone-age report. */
  readonly boneAge?: BoneAgeView | null;
}

/** A4 in PDF points. */
export const PAGE = { width: 595.28, height: 841.89 } as const;
const MARGIN = 40;
const PNG_DPI = 150;
const CROP_DPI = 300;

const INK: Color = [0.07, 0.07, 0.09];
const MUTED: Color = [0.36, 0.38, 0.42];
const RED: Color = [0.72, 0.07, 0.07];
const AMBER: Color = [0.6, 0.38, 0.0];
const GREEN: Color = [0.1, 0.45, 0.25];
const RULE: Color = [0.78, 0.8, 0.84];

type Op =
  | {
      readonly t: 'text';
      readonly x: number;
      readonly y: number;
      readonly size: number;
      readonly bold: boolean;
      readonly color: Color;
      readonly text: string;
    }
  | {
      readonly t: 'rect';
      readonly x: number;
      readonly y: number;
      readonly w: number;
      readonly h: number;
      readonly fill?: Color;
      readonly stroke?: Color;
      readonly lw?: number;
    }
  | {
      readonly t: 'line';
      readonly x1: number;
      readonly y1: number;
      readonly x2: number;
      readonly y2: number;
      readonly color: Color;
      readonly lw: number;
    }
  | {
      readonly t: 'image';
      readonly src: 'crop' | 'growth';
      readonly x: number;
      readonly y: number;
      readonly w: number;
      readonly h: number;
    };

interface Fonts {
  readonly regular: PDFFont;
  readonly bold: PDFFont;
  readonly regularBytes: Uint8Array;
  readonly boldBytes: Uint8Array;
}

/** A canvas's 2D context; a browser that cannot give one (out of memory) fails the report with this message. */
function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error(`no 2D drawing context for a ${canvas.width} x ${canvas.height} canvas`);
  return ctx;
}

async function bytesOf(url: string): Promise<Uint8Array> {
  const m = /^data:[^;,]*;base64,(.*)$/.exec(url);
  if (m) {
    const bin = atob(m[1] ?? '');
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  const r = await fetch(url);
  if (!r.ok) throw new Error(`the report font could not be loaded (${r.status})`);
  return new Uint8Array(await r.arrayBuffer());
}

// ---- layout -------------------------------------------------------------------------------------------------

class Layout implements ReportPen {
  readonly ops: Op[] = [];
  constructor(private readonly fonts: Fonts) {}

  width(text: string, size: number, bold = false): number {
    return (bold ? this.fonts.bold : this.fonts.regular).widthOfTextAtSize(text, size);
  }

  /** Lines of `text` no wider than `maxWidth` (words; a word too long for a line is cut by characters). */
  wrap(text: string, size: number, maxWidth: number, bold = false): string[] {
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(/\s+/).filter(Boolean)) {
      const trial = line ? `${line} ${word}` : word;
      if (this.width(trial, size, bold) <= maxWidth) {
        line = trial;
        continue;
      }
      if (line) lines.push(line);
      let rest = word;
      while (this.width(rest, size, bold) > maxWidth) {
        let n = rest.length - 1;
        while (n > 1 && this.width(rest.slice(0, n), size, bold) > maxWidth) n--;
        lines.push(rest.slice(0, n));
        rest = rest.slice(n);
      }
      line = rest;
    }
    if (line) lines.push(line);
    return lines;
  }

  /** One line, cut with an ellipsis when too wide. */
  fit(text: string, size: number, maxWidth: number, bold = false): string {
    if (this.width(text, size, bold) <= maxWidth) return text;
    let n = text.length;
    while (n > 1 && this.width(`${text.slice(0, n)}…`, size, bold) > maxWidth) n--;
    return `${text.slice(0, n)}…`;
  }

  text(x: number, y: number, text: string, size: number, opts: TextStyle = {}): void {
    this.ops.push({ t: 'text', x, y, size, bold: opts.bold ?? false, color: opts.color ?? INK, text });
  }

  /** Wrapped paragraph from baseline y; returns the y below it. `maxLines` cuts the last line with an ellipsis. */
  para(x: number, y: number, text: string, size: number, maxWidth: number, opts: ParaStyle = {}): number {
    const leading = opts.leading ?? size * 1.3;
    let lines = this.wrap(text, size, maxWidth, opts.bold);
    if (opts.maxLines && lines.length > opts.maxLines) {
      lines = [
        ...lines.slice(0, opts.maxLines - 1),
        this.fit(lines.slice(opts.maxLines - 1).join(' '), size, maxWidth, opts.bold),
      ];
    }
    for (const l of lines) {
      this.text(x, y, l, size, opts);
      y += leading;
    }
    return y;
  }

  rect(x: number, y: number, w: number, h: number, o: BoxStyle): void {
    this.ops.push({ t: 'rect', x, y, w, h, ...o });
  }

  line(x1: number, y1: number, x2: number, y2: number, color: Color = RULE, lw = 0.6): void {
    this.ops.push({ t: 'line', x1, y1, x2, y2, color, lw });
  }
}

/** The crop of the radiograph: the box's aspect ratio, centred on C2-C4, inside the image where possible. */
export function cropRegion(
  landmarks: LandmarkSet,
  imageW: number,
  imageH: number,
  spacingMm: number | null,
  aspect: number,
): { x: number; y: number; width: number; height: number } {
  const marginPx = spacingMm ? 9 / spacingMm : Math.max(imageW, imageH) * 0.04;
  const b = landmarkBounds(landmarks, marginPx) ?? { x: 0, y: 0, width: imageW, height: imageH };
  let w = b.width;
  let h = b.height;
  if (w / h > aspect) h = w / aspect;
  else w = h * aspect;
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  let x = cx - w / 2;
  let y = cy - h / 2;
  // Slide inside the image when it is large enough, so no empty band shows.
  if (w <= imageW) x = Math.min(Math.max(0, x), imageW - w);
  if (h <= imageH) y = Math.min(Math.max(0, y), imageH - h);
  return { x, y, width: w, height: h };
}

function labelSide(name: LandmarkName, facingRight: boolean): 'left' | 'right' | 'below' {
  if (name.endsWith('m')) return 'below';
  const anterior = /a$/.test(name);
  return anterior === facingRight ? 'right' : 'left';
}

/** The landmark model's expected error on the landmarks as they are now (its run's calibration). */
function expectedErrorSummaryOf(input: ReportInput): ExpectedErrorSummary {
  const ai = input.detail.ai ? toLandmarkSet(input.detail.ai.points) : null;
  const { mm, flagMm } = expectedErrorsOf(input.detail.ai?.modelRun?.quality);
  return summariseExpectedErrors(input.landmarks, ai, mm, flagMm);
}

/** The crop with outlines, dots, names, expected-error rings and a scale bar, at CROP_DPI for w x h points. */
function drawCrop(input: ReportInput, w: number, h: number): { canvas: HTMLCanvasElement; scaleNote: string } {
  const { image, landmarks, detail } = input;
  const spacing = detail.info.spacing;
  const k = CROP_DPI / 72;
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(w * k);
  canvas.height = Math.round(h * k);
  const ctx = context2d(canvas);
  ctx.fillStyle = '#3a3d42';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const region = cropRegion(landmarks, image.width, image.height, spacing?.colMm ?? null, w / h);
  const s = canvas.width / region.width;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(image, region.x, region.y, region.width, region.height, 0, 0, canvas.width, canvas.height);
  const toC = (p: { x: number; y: number }): [number, number] => [(p.x - region.x) * s, (p.y - region.y) * s];
  const px = canvas.width / w; // canvas pixels per point
  const flagged = new Set(input.plausibility?.landmarks ?? []);
  ctx.lineJoin = 'round';
  for (const o of OUTLINES) {
    const pts = o.names.map((n) => landmarks[n]).filter((p) => p !== undefined);
    if (pts.length !== o.names.length) continue;
    const bad = o.names.some((n) => flagged.has(n));
    ctx.strokeStyle = bad ? '#ff5050' : '#5cc8ff';
    ctx.lineWidth = 1.2 * px;
    ctx.setLineDash(bad ? [4 * px, 2.5 * px] : []);
    ctx.beginPath();
    pts.forEach((p, i) => {
      const [x, y] = toC(p);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    if (o.closed) ctx.closePath();
    ctx.stroke();
  }
  ctx.setLineDash([]);
  // The model's expected error as a ring of that radius around each point it placed (the viewer's colours).
  const expected = expectedErrorSummaryOf(input);
  const rings = spacing !== null && expected.points.length > 0;
  if (rings) {
    ctx.lineWidth = 0.7 * px;
    for (const e of expected.points) {
      const p = landmarks[e.name];
      if (!p) continue;
      const [x, y] = toC(p);
      ctx.strokeStyle = LEVEL_COLOR[confidenceLevel(e.mm, false, expected.flagMm)];
      ctx.beginPath();
      ctx.arc(x, y, Math.max((e.mm / spacing.colMm) * s, 2.4 * px), 0, Math.PI * 2);
      ctx.stroke();
    }
  }
  const facingRight = input.assessment?.ok ? input.assessment.measurements.facing === 'right' : true;
  ctx.font = `bold ${6.5 * px}px ReportSans, sans-serif`;
  ctx.textBaseline = 'middle';
  for (const n of LANDMARK_NAMES) {
    const p = landmarks[n];
    if (!p) continue;
    const [x, y] = toC(p);
    ctx.fillStyle = flagged.has(n) ? '#ff5050' : '#ffd23a';
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 0.6 * px;
    ctx.beginPath();
    ctx.arc(x, y, 1.8 * px, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
    const side = labelSide(n, facingRight);
    const tw = ctx.measureText(n).width;
    const lx = side === 'right' ? x + 3.5 * px : side === 'left' ? x - 3.5 * px - tw : x - tw / 2;
    const ly = side === 'below' ? y + 6 * px : y;
    ctx.lineWidth = 2 * px;
    ctx.strokeStyle = 'rgba(0,0,0,0.85)';
    ctx.strokeText(n, lx, ly);
    ctx.fillStyle = flagged.has(n) ? '#ff8080' : '#ffffff';
    ctx.fillText(n, lx, ly);
  }
  // Scale bar: 10 mm (5 mm on a small crop), from the image spacing.
  let scaleNote: string;
  if (spacing) {
    const pxPerMm = s / spacing.colMm;
    let barMm = 10;
    if (barMm * pxPerMm > canvas.width * 0.45) barMm = 5;
    const bar = barMm * pxPerMm;
    const x0 = 8 * px;
    const y0 = canvas.height - 10 * px;
    ctx.fillStyle = 'rgba(0,0,0,0.65)';
    ctx.fillRect(x0 - 4 * px, y0 - 14 * px, bar + 8 * px, 20 * px);
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 1.4 * px;
    ctx.beginPath();
    ctx.moveTo(x0, y0 - 3 * px);
    ctx.lineTo(x0, y0);
    ctx.lineTo(x0 + bar, y0);
    ctx.lineTo(x0 + bar, y0 - 3 * px);
    ctx.stroke();
    ctx.fillStyle = '#ffffff';
    ctx.font = `bold ${7 * px}px ReportSans, sans-serif`;
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(`${barMm} mm`, x0 + 2 * px, y0 - 5 * px);
    const magnification = ((s / k) * (25.4 / 72)) / spacing.colMm; // paper mm per image mm
    scaleNote = `Scale bar ${barMm} mm; crop printed at ${magnification.toFixed(1)}× life size${rings ? "; rings: the model's expected error" : ''}.`;
  } else {
    scaleNote = 'Uncalibrated image: no scale bar, lengths in pixels.';
  }
  return { canvas, scaleNote };
}

function fmtValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '—';
  if (unit === '%') return `${v.toFixed(1)}%`;
  if (unit === 'ratio') return v.toFixed(2);
  return `${v.toFixed(2)} ${unit}`;
}

/** The growth block's size on the page, in points: chart on the left, visits and peak timing on the right. */
const GROWTH = { chartWidth: 300, chartHeight: 118 } as const;

/** The timeline when it is worth a chart on the report: two or more visits, at least one with a value drawn. */
function reportTimeline(input: ReportInput): TimelineResponse | null {
  const t = input.timeline;
  if (!t || t.visits.length < 2) return null;
  return growthSeries(t, input.detail.imageId).length > 0 ? t : null;
}

function layoutGrowth(L: Layout, t: TimelineResponse, imageId: number, y: number): number {
  const W = PAGE.width - 2 * MARGIN;
  L.text(MARGIN, y, 'GROWTH ACROSS VISITS', 8, { bold: true, color: MUTED });
  const merged = t.merged.length ? ` (with ${t.merged.join(', ')})` : '';
  L.text(
    MARGIN + L.width('GROWTH ACROSS VISITS  ', 8, true),
    y,
    L.fit(`patient ${t.patientId ?? '—'}${merged}`, 7.5, W / 2),
    7.5,
    {
      color: MUTED,
    },
  );
  y += 6;
  L.line(MARGIN, y, PAGE.width - MARGIN, y);
  y += 4;
  L.ops.push({ t: 'image', src: 'growth', x: MARGIN, y, w: GROWTH.chartWidth, h: GROWTH.chartHeight });
  const tx = MARGIN + GROWTH.chartWidth + 14;
  const tw = PAGE.width - MARGIN - tx;
  let ty = y + 10;
  const shown = t.visits.slice(-6);
  if (shown.length < t.visits.length)
    ty = L.para(tx, ty, `… ${t.visits.length - shown.length} earlier visits`, 7.5, tw, { color: MUTED });
  for (const v of shown) {
    const age = v.ageYears !== null ? `${v.ageYears.toFixed(1)} y` : 'age ?';
    const stage = v.stageLabel ?? (v.boneAge ? `bone age ${boneAgeText(v.boneAge)}` : 'not analysed');
    const line = `${v.studyDate ?? 'undated'} · ${age} · ${stage}${v.reviewStatus === 'approved' ? '' : ` (${v.reviewStatus})`}`;
    ty = L.para(tx, ty, line, 7.5, tw, { bold: v.imageId === imageId, maxLines: 1, leading: 9.5 });
  }
  if (t.peak) ty = L.para(tx, ty + 3, t.peak.text, 8.5, tw, { bold: true, maxLines: 3, leading: 10.5 });
  for (const i of t.inconsistencies.slice(0, 1)) ty = L.para(tx, ty, i, 7, tw, { color: AMBER, maxLines: 2 });
  return Math.max(y + GROWTH.chartHeight, ty) + 10;
}

function layoutReport(
  input: ReportInput,
  fonts: Fonts,
  crop: { w: number; h: number; scaleNote: string },
  growth: TimelineResponse | null,
): Op[] {
  const L = new Layout(fonts);
  const { detail, assessment, quality, plausibility } = input;
  const meta = detail.info.meta;
  const W = PAGE.width - 2 * MARGIN;
  let y = MARGIN + 14;
  const hand = isBoneAgeReport(input.boneAge) ? input.boneAge : null;
  L.text(MARGIN, y, hand ? BONE_AGE_REPORT_TITLE : 'Cervical vertebral maturation (CVM) report', 16, { bold: true });
  L.text(PAGE.width - MARGIN - L.width('Decision aid', 9, true), y - 4, 'Decision aid', 9, {
    bold: true,
    color: AMBER,
  });
  y += 8;
  L.line(MARGIN, y, PAGE.width - MARGIN, y, INK, 0.8);
  y += 14;
  // Patient block: two columns of label/value pairs; long values wrap (names) or are cut (file).
  const colW = W / 2 - 10;
  const pair = (x: number, yy: number, label: string, value: string, maxLines = 2): number => {
    L.text(x, yy, label, 8, { color: MUTED });
    return L.para(x + 62, yy, value, 9.5, colW - 62, { maxLines, bold: label === 'Patient' });
  };
  const name = (meta.patientName ?? '—').replace(/\^+/g, ' ').trim() || '—';
  let yl = pair(MARGIN, y, 'Patient', name);
  yl = pair(MARGIN, yl, 'Patient ID', meta.patientId ?? '—', 1);
  yl = pair(
    MARGIN,
    yl,
    'Sex',
    meta.sex === 'F' ? 'female' : meta.sex === 'M' ? 'male' : meta.sex === 'O' ? 'other' : '—',
    1,
  );
  const xr = MARGIN + W / 2 + 10;
  let yr = pair(xr, y, 'Age at study', formatAge(meta.ageYears), 1);
  yr = pair(xr, yr, 'Study date', meta.studyDate ?? '—', 1);
  yr = pair(xr, yr, 'File', detail.info.fileName, 2);
  y = Math.max(yl, yr) + 4;
  L.line(MARGIN, y, PAGE.width - MARGIN, y);
  y += 10;

  // Crop (left) and stage (right).
  const cropX = MARGIN;
  const cropY = y;
  L.ops.push({ t: 'image', src: 'crop', x: cropX, y: cropY, w: crop.w, h: crop.h });
  L.rect(cropX, cropY, crop.w, crop.h, { stroke: INK, lw: 0.6 });
  if (hand) {
    L.para(
      cropX,
      cropY + crop.h + 10,
      `The whole radiograph as imported (${detail.info.width}×${detail.info.height} pixels).`,
      7.5,
      crop.w,
      {
        color: MUTED,
        maxLines: 2,
      },
    );
    const bx = cropX + crop.w + 18;
    const yb = layoutBoneAgeColumn(L, hand, bx, cropY, PAGE.width - MARGIN - bx, { INK, MUTED, RED, AMBER, GREEN });
    // The patient's growth across visits: the CVM stages of the cephalograms beside this bone age.
    if (growth) layoutGrowth(L, growth, detail.imageId, Math.max(cropY + crop.h + 24, yb) + 12);
    footer(L, detail, boneAgeFooterFacts(detail, hand, input.author, input.now), BONE_AGE_DECISION_AID);
    return L.ops;
  }
  let yc = L.para(cropX, cropY + crop.h + 10, crop.scaleNote, 7.5, crop.w, { color: MUTED });
  yc = L.para(
    cropX,
    yc,
    `Landmarks: version ${detail.latest?.version ?? '—'} (${detail.latest?.kind ?? 'not saved'}, ${detail.latest?.author ?? '—'}).`,
    7.5,
    crop.w,
    { color: MUTED, maxLines: 2 },
  );
  for (const sentence of expectedErrorSentences(expectedErrorSummaryOf(input)))
    yc = L.para(cropX, yc, sentence, 7.5, crop.w, {
      color: sentence.startsWith('To check') ? AMBER : MUTED,
      maxLines: 3,
    });

  const sx = cropX + crop.w + 18;
  const sw = PAGE.width - MARGIN - sx;
  let ys = cropY + 10;
  L.text(sx, ys, 'STAGE', 8, { bold: true, color: MUTED });
  ys += 8;
  const implausible = plausibility?.verdict === 'implausible';
  const failedModel = quality?.notCephalogram || quality?.verdict === 'failed';
  let headline: string;
  let headColor: Color = INK;
  if (!assessment) {
    headline = 'no landmarks';
    headColor = MUTED;
  } else if (!assessment.ok) {
    headline = 'not computable';
    headColor = RED;
  } else {
    const st = assessment.staging;
    headline = `${st.stage} ${(st.probability * 100).toFixed(0)}%`;
    headColor = implausible ? RED : st.confidence === 'high' ? GREEN : AMBER;
  }
  let size = 30;
  while (size > 12 && L.width(headline, size, true) > sw) size -= 1;
  const headLines = size <= 12 ? L.wrap(headline, 12, sw, true) : [headline];
  for (const line of headLines.slice(0, 3)) {
    ys += size;
    L.text(sx, ys, line, size, { bold: true, color: headColor });
    ys += 2;
  }
  ys += 12;
  const labels = labelsOf(assessment);
  if (assessment?.ok) {
    const r = assessment.result;
    const st = assessment.staging;
    if (implausible)
      ys = L.para(sx, ys, 'Not valid: the landmarks are anatomically impossible (see Quality).', 8.5, sw, {
        bold: true,
        color: RED,
      });
    ys = L.para(
      sx,
      ys,
      `${st.confidence} confidence; runner-up ${st.runnerUp} ${(st.runnerUpProbability * 100).toFixed(0)}%`,
      9,
      sw,
      { bold: true },
    );
    ys = L.para(
      sx,
      ys,
      `P: ${CVM_STAGES.map((c, i) => `${c} ${((st.probabilities[i] ?? 0) * 100).toFixed(0)}%`).join(' · ')}`,
      8,
      sw,
      { color: MUTED },
    );
    ys = L.para(sx, ys + 2, st.textbook.note ?? `Textbook criteria (2018 guide) agree: ${st.stage}.`, 8.5, sw, {
      maxLines: 4,
    });
    if (r.kind === 'stage' && r.borderline)
      ys = L.para(sx, ys, `Borderline: ${humanizeIds(r.borderline.detail, labels)}`, 8, sw, {
        color: AMBER,
        maxLines: 3,
      });
    ys = L.para(sx, ys + 2, `${st.peakGrowth.text} ${PEAK_GROWTH[st.stage]}`, 8.5, sw, { color: MUTED, maxLines: 5 });
    if (st.age?.flag) ys = L.para(sx, ys, st.age.flag, 8, sw, { color: AMBER, maxLines: 3 });
    ys = L.para(
      sx,
      ys + 2,
      `Textbook criteria: ${stageLabel(r)}. ${humanizeIds(r.kind === 'stage' ? r.rule : r.reason, labels)}`,
      7.5,
      sw,
      { color: MUTED, maxLines: 4 },
    );
    for (const n of r.notes.slice(0, 2))
      ys = L.para(sx, ys, humanizeIds(n, labels), 7.5, sw, { color: MUTED, maxLines: 3 });
  } else if (assessment) {
    ys = L.para(sx, ys, assessment.error.message, 8.5, sw, { color: RED, maxLines: 5 });
  }

  // Quality verdict and warnings, in a box.
  ys += 6;
  const warnings: { text: string; color: Color }[] = [];
  if (failedModel)
    warnings.push({
      text: quality?.notCephalogram
        ? 'The image does not look like a lateral cephalogram.'
        : 'The model did not find C2–C4 on this image.',
      color: RED,
    });
  for (const p of plausibility?.problems ?? [])
    warnings.push({ text: p.message, color: p.severity === 'implausible' ? RED : AMBER });
  for (const p of quality?.problems ?? [])
    warnings.push({ text: sentences([p]), color: quality?.verdict === 'failed' ? RED : AMBER });
  const verdict =
    failedModel || implausible
      ? 'not reliable'
      : warnings.length > 0 || quality?.verdict === 'uncertain'
        ? 'check the warnings'
        : quality
          ? 'no problems found'
          : 'landmarks placed by hand';
  const verdictColor = failedModel || implausible ? RED : warnings.length > 0 ? AMBER : GREEN;
  const boxTop = ys;
  ys += 12;
  L.text(sx + 6, ys, 'QUALITY', 8, { bold: true, color: MUTED });
  L.text(sx + 6 + L.width('QUALITY  ', 8, true), ys, verdict, 8.5, { bold: true, color: verdictColor });
  ys += 12;
  const boxLimit = cropY + crop.h + 30;
  for (const w of warnings) {
    if (ys > boxLimit) {
      L.text(sx + 6, ys, `… and ${warnings.length - warnings.indexOf(w)} more`, 7.5, { color: MUTED });
      ys += 10;
      break;
    }
    ys = L.para(sx + 6, ys, `• ${w.text}`, 7.5, sw - 12, { color: w.color, maxLines: 3, leading: 9.5 });
  }
  L.rect(sx, boxTop, sw, ys - boxTop, { stroke: verdictColor, lw: 0.9 });
  y = Math.max(yc, ys) + 12;

  // The patient's growth across visits (chart.js, the same series as the study view's chart).
  if (growth) y = layoutGrowth(L, growth, detail.imageId, y + 2);

  // Criteria table.
  const footerTop = PAGE.height - MARGIN - 92;
  L.text(MARGIN, y, 'CRITERIA (McNamara & Franchi 2018; bold: decided the stage; ≈ within tolerance)', 8, {
    bold: true,
    color: MUTED,
  });
  y += 6;
  L.line(MARGIN, y, PAGE.width - MARGIN, y);
  y += 11;
  const cols = { label: MARGIN, value: MARGIN + 190, threshold: MARGIN + 250, outcome: MARGIN + 310 };
  const outcomeW = PAGE.width - MARGIN - cols.outcome;
  if (assessment?.ok) {
    const rows = assessment.result.comparisons;
    for (const [i, c] of rows.entries()) {
      const outcome = L.wrap(humanizeIds(c.outcome, labels), 7.5, outcomeW);
      const labelLines = L.wrap(
        `${c.label}${c.withinTolerance ? ' ≈' : ''}`,
        8,
        cols.value - cols.label - 8,
        c.deciding,
      );
      const lines = Math.min(3, Math.max(outcome.length, labelLines.length));
      if (y + lines * 9.5 > footerTop) {
        L.text(MARGIN, y, `… ${rows.length - i} more criteria in the workstation`, 7.5, { color: MUTED });
        y += 10;
        break;
      }
      labelLines
        .slice(0, 3)
        .forEach((l, j) =>
          L.text(cols.label, y + j * 9.5, l, 8, { bold: c.deciding, color: c.withinTolerance ? AMBER : INK }),
        );
      L.text(cols.value, y, fmtValue(c.value, c.unit), 8, { bold: c.deciding });
      L.text(cols.threshold, y, fmtValue(c.threshold, c.unit), 8, { color: MUTED });
      outcome.slice(0, 3).forEach((l, j) => L.text(cols.outcome, y + j * 9.5, l, 7.5, { color: MUTED }));
      y += lines * 9.5 + 2;
      L.line(MARGIN, y - 7, PAGE.width - MARGIN, y - 7, [0.9, 0.91, 0.93], 0.4);
    }
    if (y + 10 < footerTop) {
      const m = assessment.measurements;
      L.para(
        MARGIN,
        y + 2,
        `Body shapes: C3 ${m.C3.body.shape.replace('-', ' ')} (width/height ${m.C3.body.ratio.toFixed(2)}), C4 ${m.C4.body.shape.replace('-', ' ')} (width/height ${m.C4.body.ratio.toFixed(2)}).`,
        8,
        W,
        { color: MUTED, maxLines: 2 },
      );
    }
  } else {
    L.text(MARGIN, y, 'No criteria: the stage could not be computed.', 8, { color: MUTED });
  }

  // Footer: provenance, review, decision-aid wording.
  const run = detail.ai?.modelRun ?? null;
  const spacing = detail.info.spacing;
  const fallback = (run?.quality as { providerFallback?: string | null } | null)?.providerFallback;
  const facts = [
    `Pixel spacing: ${formatSpacing(spacing)}${spacing?.detail ? ` — ${spacing.detail}` : ''}`,
    `Model: ${run ? `${run.modelId} ${run.modelVersion} (manifest ${run.modelSha256.slice(0, 12)}), ${formatProvider(run.provider, fallback)}, ${run.createdAt.slice(0, 16).replace('T', ' ')} UTC` : 'none (landmarks placed by hand)'}`,
    `Review: ${detail.review.status === 'approved' ? `approved by ${detail.review.by ?? '—'} on ${(detail.review.at ?? '').slice(0, 16).replace('T', ' ')} UTC` : `${detail.review.status} — NOT APPROVED`}`,
    `Report created by ${input.author || '—'} on ${input.now.toISOString().slice(0, 16).replace('T', ' ')} UTC with CVM Workstation.`,
  ];
  footer(
    L,
    detail,
    facts,
    'Decision aid: the stage and measurements support, and do not replace, the clinician’s judgement. CVM stages after McNamara & Franchi (2018); the stage applies only to a lateral cephalogram with C2–C4 visible.',
  );
  return L.ops;
}

/** The foot of the page: provenance facts (the review line red until approved) and the decision-aid wording. */
function footer(L: Layout, detail: StudyDetail, facts: readonly string[], decisionAid: string): void {
  const W = PAGE.width - 2 * MARGIN;
  let yf = PAGE.height - MARGIN - 92;
  L.line(MARGIN, yf, PAGE.width - MARGIN, yf, INK, 0.6);
  yf += 11;
  for (const f of facts)
    yf = L.para(MARGIN, yf, f, 7.5, W, {
      color: f.startsWith('Review') && detail.review.status !== 'approved' ? RED : MUTED,
      maxLines: 2,
      leading: 9.5,
    });
  yf += 2;
  L.para(MARGIN, yf, decisionAid, 7.5, W, { bold: true, maxLines: 3, leading: 9.5 });
}

// ---- back ends ----------------------------------------------------------------------------------------------

async function loadFonts(doc: PDFDocument): Promise<Fonts> {
  doc.registerFontkit(fontkit);
  const [regularBytes, boldBytes] = await Promise.all([bytesOf(sansUrl), bytesOf(boldUrl)]);
  const regular = await doc.embedFont(regularBytes, { subset: true });
  const bold = await doc.embedFont(boldBytes, { subset: true });
  return { regular, bold, regularBytes, boldBytes };
}

let canvasFontsReady: Promise<void> | null = null;
/** The same TrueType files for the PNG's canvas text, so both pages measure and look alike. */
function loadCanvasFonts(fonts: Fonts): Promise<void> {
  canvasFontsReady ??= (async () => {
    const regular = new FontFace('ReportSans', fonts.regularBytes.slice().buffer, { weight: '400' });
    const bold = new FontFace('ReportSans', fonts.boldBytes.slice().buffer, { weight: '700' });
    await Promise.all([regular.load(), bold.load()]);
    document.fonts.add(regular);
    document.fonts.add(bold);
  })();
  return canvasFontsReady;
}

const pdfColor = (c: Color) => rgb(c[0], c[1], c[2]);
const cssColor = (c: Color): string =>
  `rgb(${Math.round(c[0] * 255)}, ${Math.round(c[1] * 255)}, ${Math.round(c[2] * 255)})`;

async function canvasPng(canvas: HTMLCanvasElement): Promise<Uint8Array<ArrayBuffer>> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the image could not be encoded as PNG');
  return new Uint8Array(await blob.arrayBuffer());
}

export interface RenderedReport {
  readonly pdf: Uint8Array;
  readonly png: HTMLCanvasElement;
}

export async function renderReport(input: ReportInput): Promise<RenderedReport> {
  const doc = await PDFDocument.create();
  const fonts = await loadFonts(doc);
  await loadCanvasFonts(fonts);
  const growth = reportTimeline(input);
  const cropW = 250;
  // With a growth chart the crop is shorter, so that the criteria still fit on the page.
  const cropH = growth ? 250 : 300;
  const crop = drawCrop(input, cropW, cropH);
  const growthCanvas = growth
    ? drawGrowthChart(growth, input.detail.imageId, GROWTH.chartWidth, GROWTH.chartHeight, CROP_DPI / 72, PRINT_THEME)
    : null;
  const ops = layoutReport(
    input,
    fonts,
    { w: cropW, h: cropH, scaleNote: crop.scaleNote },
    growthCanvas ? growth : null,
  );
  const meta = input.detail.info.meta;
  const hand = isBoneAgeReport(input.boneAge);
  doc.setTitle(`${hand ? 'Bone age report' : 'CVM report'} — ${meta.patientName ?? input.detail.info.fileName}`);
  doc.setAuthor(input.author || 'CVM Workstation');
  doc.setSubject(hand ? 'Hand-wrist bone age (decision aid)' : 'Cervical vertebral maturation stage (decision aid)');
  doc.setCreator('CVM Workstation');
  doc.setProducer('CVM Workstation (pdf-lib)');
  doc.setCreationDate(input.now);
  const page = doc.addPage([PAGE.width, PAGE.height]);
  const cropImage = await doc.embedPng(await canvasPng(crop.canvas));
  const growthImage = growthCanvas ? await doc.embedPng(await canvasPng(growthCanvas)) : null;

  // PNG: the same ops on a 150 dpi canvas.
  const k = PNG_DPI / 72;
  const png = document.createElement('canvas');
  png.width = Math.round(PAGE.width * k);
  png.height = Math.round(PAGE.height * k);
  const ctx = context2d(png);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, png.width, png.height);
  ctx.textBaseline = 'alphabetic';

  const H = PAGE.height;
  for (const op of ops) {
    if (op.t === 'text') {
      page.drawText(op.text, {
        x: op.x,
        y: H - op.y,
        size: op.size,
        font: op.bold ? fonts.bold : fonts.regular,
        color: pdfColor(op.color),
      });
      ctx.font = `${op.bold ? 700 : 400} ${op.size * k}px ReportSans`;
      ctx.fillStyle = cssColor(op.color);
      ctx.fillText(op.text, op.x * k, op.y * k);
    } else if (op.t === 'rect') {
      page.drawRectangle({
        x: op.x,
        y: H - op.y - op.h,
        width: op.w,
        height: op.h,
        ...(op.fill ? { color: pdfColor(op.fill) } : {}),
        ...(op.stroke ? { borderColor: pdfColor(op.stroke), borderWidth: op.lw ?? 0.6 } : {}),
      });
      if (op.fill) {
        ctx.fillStyle = cssColor(op.fill);
        ctx.fillRect(op.x * k, op.y * k, op.w * k, op.h * k);
      }
      if (op.stroke) {
        ctx.strokeStyle = cssColor(op.stroke);
        ctx.lineWidth = (op.lw ?? 0.6) * k;
        ctx.strokeRect(op.x * k, op.y * k, op.w * k, op.h * k);
      }
    } else if (op.t === 'line') {
      page.drawLine({
        start: { x: op.x1, y: H - op.y1 },
        end: { x: op.x2, y: H - op.y2 },
        thickness: op.lw,
        color: pdfColor(op.color),
      });
      ctx.strokeStyle = cssColor(op.color);
      ctx.lineWidth = op.lw * k;
      ctx.beginPath();
      ctx.moveTo(op.x1 * k, op.y1 * k);
      ctx.lineTo(op.x2 * k, op.y2 * k);
      ctx.stroke();
    } else {
      const image = op.src === 'crop' ? cropImage : growthImage;
      const source = op.src === 'crop' ? crop.canvas : growthCanvas;
      if (!image || !source) continue;
      page.drawImage(image, { x: op.x, y: H - op.y - op.h, width: op.w, height: op.h });
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(source, op.x * k, op.y * k, op.w * k, op.h * k);
    }
  }
  const pdf = await doc.save();
  return { pdf, png };
}

/** The input with the patient's timeline; a timeline that cannot be read leaves the chart out, not the report. */
async function withTimeline(input: ReportInput): Promise<ReportInput> {
  if (input.timeline !== undefined) return input;
  const r = await api.patientTimeline({ imageId: input.detail.imageId });
  return { ...input, timeline: r.ok ? r.value : null };
}

function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function reportBaseName(detail: StudyDetail): string {
  return `cvm-report-${(detail.info.meta.patientId ?? detail.info.fileName).replace(/[^\w.-]+/g, '_')}`;
}

/**
 * Hands the page's PNG to main for the result's DICOM Secondary Capture (main/pacs/report-page.ts), so the
 * PNG, the PDF and the SC are one drawing. Only the CVM report of a DICOM image with landmarks has an SC.
 */
async function keepPageForPacs(
  detail: StudyDetail,
  boneAge: BoneAgeView | null | undefined,
  page: Uint8Array,
): Promise<void> {
  if (detail.info.format !== 'dicom' || !detail.latest || isBoneAgeReport(boneAge)) return;
  const r = await api.pacsReportPage({
    imageId: detail.imageId,
    setId: detail.latest.versionId,
    reviewStatus: detail.review.status,
    reviewAt: detail.review.at,
    png: page,
  });
  if (!r.ok) throw new Error(`the report page could not be kept for the PACS: ${r.error.message}`);
}

/** Renders the report page for the PACS's Secondary Capture (after an approval) and hands it to main. */
export async function sendReportPage(input: ReportInput): Promise<void> {
  if (input.detail.info.format !== 'dicom' || !input.detail.latest || isBoneAgeReport(input.boneAge)) return;
  const { png } = await renderReport(await withTimeline(input));
  await keepPageForPacs(input.detail, input.boneAge, await canvasPng(png));
}

/** Renders the report and saves it as PDF and PNG (and keeps the page for the PACS); resolves to the file names. */
export async function exportReport(input: ReportInput): Promise<string[]> {
  const { pdf, png } = await renderReport(await withTimeline(input));
  const base = reportBaseName(input.detail);
  const page = await canvasPng(png);
  download(new Blob([pdf.slice().buffer], { type: 'application/pdf' }), `${base}.pdf`);
  download(new Blob([page], { type: 'image/png' }), `${base}.png`);
  // The files are written; a page the PACS cannot take now (e.g. landmarks edited meanwhile) is drawn again later.
  await keepPageForPacs(input.detail, input.boneAge, page).catch((e: unknown) => console.warn((e as Error).message));
  return [`${base}.pdf`, `${base}.png`];
}

/** Prints the report page (the PNG at A4, no margins) through the browser's print dialog. */
export async function printReport(input: ReportInput): Promise<void> {
  const { png } = await renderReport(await withTimeline(input));
  const url = URL.createObjectURL(new Blob([await canvasPng(png)], { type: 'image/png' }));
  const frame = document.createElement('iframe');
  frame.style.position = 'fixed';
  frame.style.width = '0';
  frame.style.height = '0';
  frame.style.border = '0';
  frame.setAttribute('aria-hidden', 'true');
  frame.srcdoc = `<!doctype html><html><head><style>@page{size:A4;margin:0}html,body{margin:0}img{width:210mm;height:297mm;display:block}</style></head><body><img src="${url}" alt="CVM report"></body></html>`;
  document.body.appendChild(frame);
  await new Promise<void>((resolve) => {
    frame.onload = () => resolve();
  });
  const img = frame.contentDocument?.querySelector('img');
  if (img && !img.complete)
    await new Promise<void>((resolve) => {
      img.onload = () => resolve();
      img.onerror = () => resolve();
    });
  frame.contentWindow?.focus();
  frame.contentWindow?.print();
  setTimeout(() => {
    frame.remove();
    URL.revokeObjectURL(url);
  }, 60_000);
}
