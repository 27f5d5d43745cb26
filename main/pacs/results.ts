/**
 * A study's result as DICOM objects for the PACS: the SR (stage, probabilities, landmarks, measurements,
 * model, review) and the report page as a Secondary Capture, queued in the outbox in one transaction. The
 * SC's pixels are the page the app drew for the PNG/PDF report (report-page.ts): without a page of the
 * current result the SR goes alone, and the SC follows once the app hands over the page. The local result is
 * untouched; a new SR for an image names the previous one as its predecessor.
 */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import type { CvmStage, Measurements } from '../../core/cvm/types';
import { CVM_STAGES } from '../../core/cvm/types';
import { StoreError } from '../store/errors';
import type { Store } from '../store/store';
import { PacsRepo, type NewOutboxItem } from './repo';
import { currentReportPage } from './report-page';
import { buildSecondaryCapture } from './secondary-capture';
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
  const row = store.sql.read('read a stage assessment', () =>
    store.sql.get<{ assessment_deflated: Buffer }>(
      'SELECT assessment_deflated FROM stage_assessments WHERE set_ref = ?',
      setId,
    ),
  );
  return row ? JSON.parse(inflateRawSync(row.assessment_deflated).toString('utf8')) : null;
}

export interface PreparedResult {
  readonly imageId: number;
  readonly srId: number;
  /** The SC of this result, null while the app has not drawn its report page (scMissing says so). */
  readonly scId: number | null;
  readonly srUid: string;
  readonly scUid: string | null;
  /** Why this result has no Secondary Capture yet (null when it has one). */
  readonly scMissing: string | null;
  readonly verified: boolean;
  readonly predecessorUid: string | null;
  /** True when the current result was already queued (nothing new was made). */
  readonly unchanged: boolean;
}

/** Builds the SR and the SC of an image's current result and queues both. */
export interface PrepareOptions {
  readonly author: string;
  readonly appVersion: string;
  readonly now?: Date;
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
  const latest = detail.latest;
  const page = currentReportPage(store, imageId, {
    setId: latest.versionId,
    reviewStatus: detail.review.status,
    reviewAt: detail.review.at,
  });
  const scMissing =
    'missing' in page
      ? `No Secondary Capture yet: ${page.missing} (it is drawn when the study is approved or its report written in the app).`
      : null;
  const row = store.imageRow(imageId);
  const source: SourceImage = readSourceImage(row.original_name, readFileSync(store.absolutePath(row.stored_path)));
  const now = options.now ?? new Date();
  const scItem = (): NewOutboxItem | null => {
    if ('missing' in page) return null;
    const sopInstanceUid = newUid();
    return {
      imageId,
      setId: latest.versionId,
      kind: 'sc',
      sopInstanceUid,
      studyInstanceUid: source.studyInstanceUid,
      predecessorUid: null,
      verified,
      dicom: buildSecondaryCapture({
        source,
        sopInstanceUid,
        seriesInstanceUid: newUid(),
        instanceNumber: 1,
        page,
        now,
        appVersion: options.appVersion,
      }),
    };
  };
  const previous = repo.latestSr(imageId);
  if (previous && previous.set_ref === latest.versionId && (previous.verified === 1) === verified) {
    // The SR of this result is queued already; its SC too, or now that the app has drawn the page.
    const queuedSc = repo
      .forImage(imageId)
      .filter((r) => r.kind === 'sc' && r.set_ref === latest.versionId && (r.verified === 1) === verified)
      .at(-1);
    const sc = queuedSc ? null : scItem();
    const scId = queuedSc?.id ?? (sc ? (repo.enqueue([sc], options.author)[0] ?? null) : null);
    return {
      imageId,
      srId: previous.id,
      scId,
      srUid: previous.sop_instance_uid,
      scUid: queuedSc?.sop_instance_uid ?? sc?.sopInstanceUid ?? null,
      scMissing: scId === null ? scMissing : null,
      verified,
      predecessorUid: previous.predecessor_uid,
      unchanged: sc === null,
    };
  }
  const assessment = assessmentOf(store, detail.latest.versionId) as {
    ok?: boolean;
    measurements?: Measurements;
    result?: { peakGrowth?: string };
  } | null;
  const measurements = assessment?.ok ? (assessment.measurements ?? null) : null;
  const probabilities = probabilitiesOf(assessment);
  const run = detail.ai?.modelRun ?? null;
  const model = run ? { id: run.modelId, version: run.modelVersion, sha256: run.modelSha256 } : null;
  const prevSeries = previous ? readSourceImage('previous SR', repo.dicomOf(previous.id)).seriesInstanceUid : null;
  const srUid = newUid();
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

  const sc = scItem();
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
      ...(sc ? [sc] : []),
    ],
    options.author,
  );
  if (srId === undefined || (sc && scId === undefined))
    throw new Error('prepareResults: the outbox did not return an id for each object it queued');
  return {
    imageId,
    srId,
    scId: scId ?? null,
    srUid,
    scUid: sc?.sopInstanceUid ?? null,
    scMissing,
    verified,
    predecessorUid: previous?.sop_instance_uid ?? null,
    unchanged: false,
  };
}
