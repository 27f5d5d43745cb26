/**
 * The one-page study report as a PNG (A4 portrait at 150 dpi): the C2-C4 region with landmarks and
 * outlines, the stage, the rule, the measurements, the peak-growth timing, model and date.
 * Drawn on a canvas so it looks the same in Electron and in the browser and needs no print dialog.
 */
import type { StudyDetail } from '../../../core/api/studies';
import { CVM_STAGES, stageLabel, type Assessment } from '../../../core/cvm/index';
import { LANDMARK_NAMES, type LandmarkSet } from '../../../core/landmarks/index';
import { OUTLINES, landmarkBounds } from '../../canvas/outlines';
import { formatSpacing } from '../format';

const PAGE = { width: 1240, height: 1754 };
const MARGIN = 80;

function wrap(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, maxWidth: number, lineHeight: number): number {
  let line = '';
  for (const word of text.split(/\s+/)) {
    const trial = line ? `${line} ${word}` : word;
    if (ctx.measureText(trial).width > maxWidth && line) {
      ctx.fillText(line, x, y);
      y += lineHeight;
      line = word;
    } else line = trial;
  }
  if (line) { ctx.fillText(line, x, y); y += lineHeight; }
  return y;
}

export interface ReportInput {
  readonly detail: StudyDetail;
  readonly image: HTMLCanvasElement;
  readonly landmarks: LandmarkSet;
  readonly assessment: Assessment | null;
  readonly author: string;
  readonly now: Date;
}

export function drawReport(input: ReportInput): HTMLCanvasElement {
  const { detail, image, landmarks, assessment } = input;
  const canvas = document.createElement('canvas');
  canvas.width = PAGE.width;
  canvas.height = PAGE.height;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, PAGE.width, PAGE.height);
  ctx.fillStyle = '#111111';
  ctx.textBaseline = 'top';

  ctx.font = 'bold 34px sans-serif';
  ctx.fillText('Cervical vertebral maturation report', MARGIN, MARGIN);
  ctx.font = '20px sans-serif';
  const meta = detail.info.meta;
  const facts = [
    `Patient: ${meta.patientName ?? '—'}${meta.patientId ? ` (ID ${meta.patientId})` : ''}   Sex: ${meta.sex ?? '—'}   Age: ${meta.ageYears !== null ? `${meta.ageYears.toFixed(1)} y` : '—'}`,
    `Study date: ${meta.studyDate ?? '—'}   File: ${detail.info.fileName}`,
    `Pixel spacing: ${formatSpacing(detail.info.spacing)}`,
  ];
  let y = MARGIN + 56;
  for (const f of facts) { ctx.fillText(f, MARGIN, y); y += 30; }

  // Image region around C2-C4.
  const region = landmarkBounds(landmarks, 120) ?? { x: 0, y: 0, width: image.width, height: image.height };
  const box = { x: MARGIN, y: y + 16, width: 520, height: 640 };
  const k = Math.min(box.width / region.width, box.height / region.height);
  ctx.fillStyle = '#000';
  ctx.fillRect(box.x, box.y, box.width, box.height);
  ctx.drawImage(image, region.x, region.y, region.width, region.height, box.x, box.y, region.width * k, region.height * k);
  const toPage = (p: { x: number; y: number }): [number, number] => [box.x + (p.x - region.x) * k, box.y + (p.y - region.y) * k];
  ctx.strokeStyle = '#39b6ff';
  ctx.lineWidth = 2;
  for (const o of OUTLINES) {
    const pts = o.names.map((n) => landmarks[n]).filter((p) => p !== undefined);
    if (pts.length !== o.names.length) continue;
    ctx.beginPath();
    pts.forEach((p, i) => { const [px, py] = toPage(p); if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py); });
    if (o.closed) ctx.closePath();
    ctx.stroke();
  }
  ctx.fillStyle = '#ffdd33';
  for (const n of LANDMARK_NAMES) {
    const p = landmarks[n];
    if (!p) continue;
    const [px, py] = toPage(p);
    ctx.beginPath(); ctx.arc(px, py, 4, 0, Math.PI * 2); ctx.fill();
  }

  // Stage and explanation beside the image.
  const col = { x: box.x + box.width + 40, width: PAGE.width - MARGIN - (box.x + box.width + 40) };
  let cy = box.y;
  ctx.fillStyle = '#111';
  ctx.font = 'bold 22px sans-serif';
  ctx.fillText('Stage', col.x, cy); cy += 32;
  const headline = assessment?.ok ? `${assessment.staging.stage} ${Math.round(assessment.staging.probability * 100)}%` : 'not computable';
  let size = 48;
  do { ctx.font = `bold ${size}px sans-serif`; size -= 2; } while (ctx.measureText(headline).width > col.width && size > 20);
  ctx.fillText(headline, col.x, cy); cy += size + 18;
  ctx.font = '19px sans-serif';
  if (assessment?.ok) {
    // The clinician-fitted model's answer, then the textbook criteria as its explanation.
    const s = assessment.staging;
    cy = wrap(ctx, `${s.confidence[0]!.toUpperCase()}${s.confidence.slice(1)} confidence; runner-up ${s.runnerUp} ${Math.round(s.runnerUpProbability * 100)}%.`, col.x, cy, col.width, 26);
    cy = wrap(ctx, `P: ${CVM_STAGES.map((st, i) => `${st} ${Math.round(s.probabilities[i]! * 100)}%`).join(' · ')}`, col.x, cy, col.width, 26) + 6;
    cy = wrap(ctx, s.peakGrowth.text, col.x, cy, col.width, 26) + 6;
    if (s.textbook.note) cy = wrap(ctx, s.textbook.note, col.x, cy, col.width, 26) + 6;
    if (s.age?.flag) cy = wrap(ctx, s.age.flag, col.x, cy, col.width, 26) + 6;
    const r = assessment.result;
    cy = wrap(ctx, `Textbook criteria: ${stageLabel(r)}. ${r.kind === 'stage' ? r.rule : r.reason}`, col.x, cy, col.width, 26) + 10;
    if (r.kind === 'stage') {
      if (r.borderline) cy = wrap(ctx, `Borderline: ${r.borderline.detail}`, col.x, cy, col.width, 26) + 10;
      ctx.font = 'italic 19px sans-serif';
      cy = wrap(ctx, r.peakGrowth, col.x, cy, col.width, 26) + 10;
    }
    for (const n of r.notes) cy = wrap(ctx, n, col.x, cy, col.width, 24);
  } else if (assessment) {
    cy = wrap(ctx, assessment.error.message, col.x, cy, col.width, 26);
  }

  // Measurements table below.
  y = box.y + box.height + 40;
  ctx.font = 'bold 22px sans-serif';
  ctx.fillText('Measurements', MARGIN, y); y += 36;
  ctx.font = '18px sans-serif';
  if (assessment?.ok) {
    for (const c of assessment.result.comparisons) {
      const value = c.unit === '%' ? `${c.value.toFixed(1)}%` : c.unit === 'ratio' ? c.value.toFixed(2) : `${c.value.toFixed(2)} ${c.unit}`;
      ctx.font = c.deciding ? 'bold 18px sans-serif' : '18px sans-serif';
      ctx.fillText(c.label, MARGIN, y);
      ctx.fillText(value, MARGIN + 520, y);
      ctx.fillText(c.outcome, MARGIN + 660, y, PAGE.width - MARGIN - (MARGIN + 660));
      y += 27;
      if (y > PAGE.height - 180) break;
    }
  }
  const run = detail.ai?.modelRun ?? null;
  ctx.font = '16px sans-serif';
  ctx.fillStyle = '#444';
  const footer = [
    `Landmarks: version ${detail.latest?.version ?? '—'} (${detail.latest?.kind ?? 'unsaved'}, ${detail.latest?.author ?? '—'}); review: ${detail.review.status}${detail.review.by ? ` by ${detail.review.by}` : ''}`,
    `Model: ${run ? `${run.modelId} ${run.modelVersion} (${run.modelSha256.slice(0, 12)}), ${run.provider}` : 'none (landmarks placed by hand)'}`,
    `Report by ${input.author}, ${input.now.toISOString().replace('T', ' ').slice(0, 16)} UTC. Stage by ${assessment?.ok ? `${assessment.staging.model.id} ${assessment.staging.model.version}` : 'the staging model'} (fitted to clinicians' stages), criteria by McNamara & Franchi (2018). A decision aid: the clinician decides.`,
  ];
  let fy = PAGE.height - MARGIN - footer.length * 24;
  for (const f of footer) { ctx.fillText(f, MARGIN, fy); fy += 24; }
  return canvas;
}

export async function downloadCanvas(canvas: HTMLCanvasElement, fileName: string): Promise<void> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the report could not be encoded as PNG');
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
