/**
 * Retrieve studies from the PACS into the local store through the import service. Each instance is fetched
 * whole into memory and only then imported (copy written atomically, database row in one transaction), so a
 * server that dies mid-pull leaves complete instances or nothing. A SOP Instance UID already retrieved is
 * neither fetched nor stored again. Instances that are not lateral cephalograms are skipped with a reason.
 */
import type { RadiographKindView } from '../../core/api/boneage';
import type { OpenedImage } from '../../core/api/image';
import type { ImportFileResult } from '../../core/api/studies';
import type { Store } from '../store/store';
import type { DicomWebClient, InstanceSummary } from './client';
import { PacsError } from './http';
import { columnOverrulesClassifier, headerSaysHand, imageVerdict, recogniseCephalogram } from './recognise';
import { PacsRepo } from './repo';
import { readSourceImage } from './source';

export interface PullProgress {
  readonly studyUid: string;
  /** Instances handled so far, over all studies, and how many are known so far. */
  readonly done: number;
  readonly total: number;
  readonly current: string | null;
  readonly bytes: number;
}

export type InstanceOutcome =
  | {
      readonly sopInstanceUid: string;
      readonly outcome: 'retrieved' | 'already-present';
      readonly imageId: number;
      readonly note?: string;
      /** Where the image goes: CVM staging (a cephalogram) or bone age (a hand-wrist radiograph). */
      readonly route?: 'cvm' | 'boneage';
    }
  | { readonly sopInstanceUid: string; readonly outcome: 'skipped'; readonly reason: string }
  | { readonly sopInstanceUid: string; readonly outcome: 'failed'; readonly reason: string };

export interface StudyPullReport {
  readonly studyUid: string;
  readonly instances: readonly InstanceOutcome[];
  /** Set when the study could not be listed or the pull stopped inside it. */
  readonly error: string | null;
}

export interface PullReport {
  readonly studies: readonly StudyPullReport[];
  readonly cancelled: boolean;
  readonly retrieved: number;
  readonly alreadyPresent: number;
  readonly skipped: number;
  readonly failed: number;
  readonly bytes: number;
  readonly ms: number;
}

/**
 * The import service in two steps (main/services/studies.ts fileImporter): each retrieved file is decoded
 * once, the classifier looks at those pixels, and the same decode is stored (or dropped when skipped).
 */
export interface Importer<D extends { readonly opened: OpenedImage | null }> {
  decode(store: Store, fileName: string, bytes: Uint8Array): Promise<D>;
  commit(store: Store, decoded: D, options: { author: string }): Promise<ImportFileResult>;
  discard(store: Store, decoded: D): void;
}

export interface PullOptions<D extends { readonly opened: OpenedImage | null }> {
  readonly author: string;
  readonly importer: Importer<D>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: PullProgress) => void | Promise<void>;
  /**
   * The image classifier (models/radiograph-kind through main/services/boneage.ts) on a retrieved file's
   * decoded pixels; null when no kind model is installed (the header alone decides then, and the note says
   * so). Without it, hand radiographs are skipped by their header.
   */
  readonly classify?: (image: OpenedImage) => Promise<RadiographKindView | null>;
  /** Stores the classifier's kind of an imported image (the bone-age panel and the review rules read it). */
  readonly recordKind?: (imageId: number, kind: RadiographKindView) => void;
  /**
   * The landmark model's second opinion where the classifier confidently calls an image whose header allows a
   * cephalogram "other" (skipped) or a hand (bone age): does it find a plausible C2-C4 column? Then the image is
   * kept for staging, with a note to check it (the classifier misses exports it never learnt, such as a noisy film or
   * one on a wide black canvas; the landmark model refuses hands and other radiographs itself).
   */
  readonly findsColumn?: (image: OpenedImage) => Promise<boolean>;
}

export async function pullStudies<D extends { readonly opened: OpenedImage | null }>(
  store: Store,
  client: DicomWebClient,
  studyUids: readonly string[],
  options: PullOptions<D>,
): Promise<PullReport> {
  const start = performance.now();
  const repo = new PacsRepo(store);
  const studies: StudyPullReport[] = [];
  let done = 0;
  let total = 0;
  let bytes = 0;
  let cancelled = false;
  for (const studyUid of studyUids) {
    if (options.signal?.aborted) {
      cancelled = true;
      break;
    }
    const outcomes: InstanceOutcome[] = [];
    let error: string | null = null;
    let instances: InstanceSummary[];
    try {
      instances = await client.studyInstances(studyUid, options.signal);
    } catch (e) {
      if (e instanceof PacsError && e.kind === 'cancelled') {
        cancelled = true;
        break;
      }
      studies.push({ studyUid, instances: [], error: (e as Error).message });
      continue;
    }
    if (instances.length === 0) error = `The PACS has no instance of study ${studyUid}.`;
    total += instances.length;
    for (const inst of instances) {
      await options.onProgress?.({ studyUid, done, total, current: inst.sopInstanceUid, bytes });
      const known = repo.retrievedImageOf(inst.sopInstanceUid);
      if (known !== undefined && known !== null) {
        outcomes.push({ sopInstanceUid: inst.sopInstanceUid, outcome: 'already-present', imageId: known });
        done++;
        continue;
      }
      const recognition = recogniseCephalogram(inst);
      // With an image classifier, a hand-wrist radiograph is a bone-age candidate rather than skipped.
      const handCandidate = !recognition.cephalogram && options.classify !== undefined && headerSaysHand(inst);
      if (!recognition.cephalogram && !handCandidate) {
        outcomes.push({ sopInstanceUid: inst.sopInstanceUid, outcome: 'skipped', reason: recognition.reason });
        done++;
        continue;
      }
      let data: Buffer;
      try {
        data = await client.retrieveInstance(inst, options.signal);
      } catch (e) {
        if (e instanceof PacsError && e.kind === 'cancelled') {
          cancelled = true;
          break;
        }
        outcomes.push({ sopInstanceUid: inst.sopInstanceUid, outcome: 'failed', reason: (e as Error).message });
        done++;
        // A server that is gone fails every following request the same way: stop this study.
        if (e instanceof PacsError && (e.kind === 'refused' || e.kind === 'unreachable' || e.kind === 'timeout')) {
          error = (e as Error).message;
          break;
        }
        continue;
      }
      bytes += data.length;
      // The header of the retrieved file decides, where QIDO did not return the attributes.
      let sopClassUid = inst.sopClassUid;
      let issuer: string | null = null;
      let note = recognition.cephalogram ? recognition.note : 'the header names a hand-wrist radiograph';
      let route: 'cvm' | 'boneage' = recognition.cephalogram ? 'cvm' : 'boneage';
      let kind: RadiographKindView | null = null;
      let decoded: D | undefined;
      try {
        const src = readSourceImage(`${inst.sopInstanceUid}.dcm`, data);
        sopClassUid = src.sopClassUid;
        issuer = src.issuerOfPatientId;
        if (src.sopInstanceUid !== inst.sopInstanceUid)
          throw new Error(`the server sent ${src.sopInstanceUid} for ${inst.sopInstanceUid}`);
        const again = recogniseCephalogram({ ...src, bodyPart: src.bodyPart, viewPosition: src.viewPosition });
        const stillHand = !again.cephalogram && handCandidate && headerSaysHand(src);
        if (!again.cephalogram && !stillHand) {
          outcomes.push({ sopInstanceUid: inst.sopInstanceUid, outcome: 'skipped', reason: again.reason });
          done++;
          continue;
        }
        // One decode (in a decoder worker) serves the classifier and the import.
        decoded = await options.importer.decode(store, `${inst.sopInstanceUid}.dcm`, data);
        // opened is null when the same bytes are already stored: that image was classified when it came in.
        if (options.classify && decoded.opened) {
          kind = await options.classify(decoded.opened);
          if (kind === null) {
            note = `${note}; no image classifier model is installed`;
          } else {
            let verdict = imageVerdict(again.cephalogram ? 'cephalogram' : 'hand', kind);
            // A header that allows a cephalogram against a confident "other" or "hand": the landmark model decides.
            if (verdict.route !== 'cvm' && again.cephalogram && (await options.findsColumn?.(decoded.opened))) {
              verdict = columnOverrulesClassifier(kind);
              // Recorded as the analysis records an overruled verdict: a cephalogram the classifier was unsure of.
              kind = { ...kind, kind: 'cephalogram', uncertain: true };
            }
            if (verdict.route === 'skip') {
              options.importer.discard(store, decoded);
              outcomes.push({ sopInstanceUid: inst.sopInstanceUid, outcome: 'skipped', reason: verdict.reason });
              done++;
              continue;
            }
            route = verdict.route;
            note = verdict.note;
          }
        }
      } catch (e) {
        if (decoded) options.importer.discard(store, decoded);
        outcomes.push({
          sopInstanceUid: inst.sopInstanceUid,
          outcome: 'failed',
          reason: `not a usable DICOM image: ${(e as Error).message}`,
        });
        done++;
        continue;
      }
      const imported = await options.importer.commit(store, decoded, { author: options.author });
      if (!imported.ok) {
        outcomes.push({ sopInstanceUid: inst.sopInstanceUid, outcome: 'failed', reason: imported.error.message });
      } else {
        repo.recordRetrieved({
          sopInstanceUid: inst.sopInstanceUid,
          imageId: imported.imageId,
          studyUid: inst.studyInstanceUid || studyUid,
          seriesUid: inst.seriesInstanceUid,
          sopClassUid,
          issuer,
          sourceUrl: client.displayUrl,
          author: options.author,
        });
        if (kind) options.recordKind?.(imported.imageId, kind);
        outcomes.push({
          sopInstanceUid: inst.sopInstanceUid,
          outcome: imported.duplicate ? 'already-present' : 'retrieved',
          imageId: imported.imageId,
          note,
          route,
        });
      }
      done++;
    }
    studies.push({ studyUid, instances: outcomes, error });
    await options.onProgress?.({ studyUid, done, total, current: null, bytes });
    if (cancelled) break;
  }
  const count = (k: InstanceOutcome['outcome']): number =>
    studies.reduce((n, s) => n + s.instances.filter((i) => i.outcome === k).length, 0);
  return {
    studies,
    cancelled,
    bytes,
    ms: Math.round(performance.now() - start),
    retrieved: count('retrieved'),
    alreadyPresent: count('already-present'),
    skipped: count('skipped'),
    failed: count('failed'),
  };
}
