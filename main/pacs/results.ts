/**
 * A study's result as DICOM objects for the PACS: the SR (stage, probabilities, landmarks, measurements,
 * model, review) and the report page as a Secondary Capture, queued in the outbox in one transaction. The
 * local result is untouched; a new SR for an image names the previous one as its predecessor.
 */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import type { CvmStage, Measurements } from '../../core/cvm/types';
import { CVM_STAGES } from '../../core/cvm/types';
import { PEAK_GROWTH } from '../../core/cvm/growth';
import { StoreError } from '../store/errors';
import type { Store } from '../store/store';
import type { OpenedImage } from '../../core/api/image';
import { PacsRepo } from './repo';
import { buildSecondaryCapture, renderReportPage } from './secondary-capture';
import { readSourceImage, type SourceImage } from './source';
import { buildSr } from './sr';
import { newUid } from './uid';

/**
 * The stage probabilities of a stored assessment, when the staging model put them there (the staging issue
 * adds them): `probabilities` on the assessment or on its result, as {CS1: p, ...} or an array of six.
 */
export function probabilitiesOf(assessment: unknown): Partial<Record<CvmStage, number>> | null {
  const pick = (o: unknown): unknown =>
    typeof o === 'object' && o !== null && 'probabilities' in o
      ? (o as { probabilities: unknown }).probabilities
      : undefined;
  const raw = pick(assessment) ?? pick((assessment as { result?: unknown } | null)?.result);
  if (Array.isArray(raw) && raw.length === 6 && raw.every((p) => typeof p === 'number')) {
    return Object.fromEntries(CVM_STAGES.map((s, i) => [s, raw[i] as number]));
  }
  if (typeof raw === 'object' && raw !== null) {
    const out: Partial<Record<CvmStage, number>> = {};
    for (const s of CVM_STAGES) {
      const p = (raw as Record<string, unknown>)[s];
      if (typeof p === 'number' && Number.isFinite(p)) out[s] = p;
    }
    return Object.keys(out).length > 0 ? out : null;
  }
  return null;
}

function assessmentOf(store: Store, setId: number): unknown {
  const row = store.db.prepare('SELECT assessment_deflated FROM stage_assessments WHERE set_ref = ?').get(setId) as
    { assessment_deflated: Buffer } | undefined;
  return row ? JSON.parse(inflateRawSync(row.assessment_deflated).toString('utf8')) : null;
}

export interface PreparedResult {
  readonly imageId: number;
  readonly srId: number;
  readonly scId: number;
  readonly srUid: string;
  readonly scUid: string;
  readonly verified: boolean;
  readonly predecessorUid: string | null;
  /** True when the current result was already queued (nothing new was made). */
  readonly unchanged: boolean;
}

const fmt = (v: number): string => (Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Builds the SR and the SC of an image's current result and queues both. */
export interface PrepareOptions {
  readonly author: string;
  readonly appVersion: string;
  readonly now?: Date;
  /** Decoded pixels of a stored image (main/services/studies.ts loadImagePixels), for the report page. */
  readonly loadPixels: (store: Store, imageId: number) => Promise<OpenedImage>;
}

export async function prepareResults(store: Store, imageId: number, options: PrepareOptions): Promise<PreparedResult> {
  const repo = new PacsRepo(store);
  const detail = store.loadStudy(imageId);
  if (!detail.latest)
    throw new StoreError(
      'invalid-request',
      'invalid',
      `Image ${imageId} has no landmarks yet: analyse it before sending a result.`,
    );
  if (detail.info.format !== 'dicom') {
    throw new StoreError(
      'unsupported',
      'invalid',
      `${detail.info.fileName} is a ${detail.info.format.toUpperCase()} file: only results on DICOM images can be stored on the PACS (they must reference the source image).`,
    );
  }
  const verified = detail.review.status === 'approved';
  const previous = repo.latestSr(imageId);
  if (previous && previous.set_ref === detail.latest.versionId && (previous.verified === 1) === verified) {
    const sc = repo
      .forImage(imageId)
      .filter((r) => r.kind === 'sc')
      .at(-1);
    return {
      imageId,
      srId: previous.id,
      scId: sc?.id ?? previous.id,
      srUid: previous.sop_instance_uid,
      scUid: sc?.sop_instance_uid ?? '',
      verified,
      predecessorUid: previous.predecessor_uid,
      unchanged: true,
    };
  }
  const row = store.imageRow(imageId);
  const source: SourceImage = readSourceImage(row.original_name, readFileSync(store.absolutePath(row.stored_path)));
  const assessment = assessmentOf(store, detail.latest.versionId) as {
    ok?: boolean;
    measurements?: Measurements;
    result?: { peakGrowth?: string };
  } | null;
  const measurements = assessment?.ok ? (assessment.measurements ?? null) : null;
  const probabilities = probabilitiesOf(assessment);
  const run = detail.ai?.modelRun ?? null;
  const model = run ? { id: run.modelId, version: run.modelVersion, sha256: run.modelSha256 } : null;
  const now = options.now ?? new Date();
  const prevSeries = previous ? readSourceImage('previous SR', repo.dicomOf(previous.id)).seriesInstanceUid : null;
  const srUid = newUid();
  const scUid = newUid();
  const latest = detail.latest;
  const landmarkSource =
    latest.kind === 'ai'
      ? `model prediction (${model ? `${model.id} ${model.version}` : 'model'}), version ${latest.version}`
      : `${latest.kind} by ${latest.author}, version ${latest.version}`;
  const sr = buildSr({
    source,
    sopInstanceUid: srUid,
    seriesInstanceUid: prevSeries ?? newUid(),
    instanceNumber: (previous ? repo.forImage(imageId).filter((r) => r.kind === 'sr').length : 0) + 1,
    landmarks: latest.points,
    stage: latest.stage,
    probabilities,
    measurements,
    model,
    landmarkSource,
    author: options.author,
    review: { approved: verified, by: detail.review.by, at: detail.review.at },
    predecessor:
      previous && prevSeries ? { sopInstanceUid: previous.sop_instance_uid, seriesInstanceUid: prevSeries } : null,
    now,
    appVersion: options.appVersion,
  });

  const stage = latest.stage;
  const lines: string[] = [
    `Patient: ${source.patientName ?? '-'}   ID: ${source.patientId ?? '-'}   Sex: ${source.sex ?? '-'}   Born: ${detail.info.meta.birthDate ?? '-'}`,
    `Study date: ${detail.info.meta.studyDate ?? '-'}   Age: ${detail.info.meta.ageYears !== null ? `${detail.info.meta.ageYears.toFixed(1)} years` : '-'}`,
    '',
    `Stage: ${stage?.label ?? 'not staged'}`,
  ];
  if (probabilities)
    lines.push(
      `Probabilities: ${CVM_STAGES.flatMap((s) => {
        const p = probabilities[s];
        return p === undefined ? [] : [`${s} ${(p * 100).toFixed(0)}%`];
      }).join('  ')}`,
    );
  if (stage?.stage) lines.push(PEAK_GROWTH[stage.stage]);
  if (measurements) {
    const u = measurements.unit;
    lines.push(
      '',
      `Concavity depth (${u}): C2 ${fmt(measurements.C2.concavity.depth)}  C3 ${fmt(measurements.C3.concavity.depth)}  C4 ${fmt(measurements.C4.concavity.depth)}`,
    );
    lines.push(
      `Body width/height: C3 ${fmt(measurements.C3.body.ratio)} (${measurements.C3.body.shape})  C4 ${fmt(measurements.C4.body.ratio)} (${measurements.C4.body.shape})`,
    );
  }
  lines.push('', `Landmarks: ${landmarkSource}`);
  if (model) lines.push(`Model: ${model.id} ${model.version}`);
  lines.push(
    verified
      ? `Approved by ${detail.review.by ?? '-'} at ${detail.review.at ? `${detail.review.at.slice(0, 16).replace('T', ' ')} UTC` : '-'}`
      : 'NOT REVIEWED: unverified result',
  );
  lines.push(`CVM Workstation ${options.appVersion}, ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  const opened = await options.loadPixels(store, imageId);
  const page = renderReportPage({ title: 'CVM assessment', lines }, opened.pixels, latest.points);
  const sc = buildSecondaryCapture({
    source,
    sopInstanceUid: scUid,
    seriesInstanceUid: newUid(),
    instanceNumber: 1,
    page,
    now,
    appVersion: options.appVersion,
  });

  const [srId, scId] = repo.enqueue(
    [
      {
        imageId,
        setId: latest.versionId,
        kind: 'sr',
        sopInstanceUid: srUid,
        studyInstanceUid: source.studyInstanceUid,
        predecessorUid: previous?.sop_instance_uid ?? null,
        verified,
        dicom: sr,
      },
      {
        imageId,
        setId: latest.versionId,
        kind: 'sc',
        sopInstanceUid: scUid,
        studyInstanceUid: source.studyInstanceUid,
        predecessorUid: null,
        verified,
        dicom: sc,
      },
    ],
    options.author,
  );
  if (srId === undefined || scId === undefined)
    throw new Error('prepareResults: the outbox did not return an id for both the SR and the SC it queued');
  return {
    imageId,
    srId,
    scId,
    srUid,
    scUid,
    verified,
    predecessorUid: previous?.sop_instance_uid ?? null,
    unchanged: false,
  };
}
