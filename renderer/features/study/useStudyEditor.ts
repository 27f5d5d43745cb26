/**
 * Everything one open study needs: its stored detail, its pixels, the landmark history with one entry per
 * gesture, the live assessment (core/cvm, recomputed in the renderer on every change) and the save queue
 * that stores each gesture as a new version, in order.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { OpenedImage } from '../../../core/api/index';
import { fromLandmarkSet, toLandmarkSet, type ReviewStatus, type StudyDetail } from '../../../core/api/studies';
import { assess, modelPlacedErrors, type Assessment } from '../../../core/cvm/index';
import type { CalibrationEntry } from '../../../core/geometry/calibration';
import type { LandmarkName, LandmarkSet } from '../../../core/landmarks/index';
import { expectedErrorsOf } from '../../canvas/confidence';
import { api } from '../../api';
import { canRedo, canUndo, commit, createHistory, preview, redo, undo, type History } from '../../state/history';
import { createSaveQueue, type QueueState, type SaveQueue } from '../../state/save-queue';

export type SaveState = QueueState;

export interface StudyEditor {
  readonly detail: StudyDetail;
  readonly image: OpenedImage;
  readonly landmarks: LandmarkSet;
  readonly ai: LandmarkSet | null;
  readonly assessment: Assessment | null;
  readonly saveState: SaveState;
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  /** Show a gesture in progress (a drag): recomputes the stage, records nothing. */
  previewLandmarks(next: LandmarkSet): void;
  /** A finished gesture: one undo step and one saved version. */
  commitGesture(before: LandmarkSet, moved: readonly LandmarkName[], after?: LandmarkSet): void;
  undo(): void;
  redo(): void;
  resetToAi(names: readonly LandmarkName[]): void;
  revertTo(versionId: number): Promise<void>;
  /** Changes the review status; resolves to the refusal's reason, or null when done. */
  setReview(status: ReviewStatus, confirmation?: string): Promise<string | null>;
  /** Age (years) and sex for a study whose file lacks them; resolves to an error, or null. */
  setPatientInfo(info: { ageYears?: number | null; sex?: 'M' | 'F' | 'O' | null }): Promise<string | null>;
  setCalibration(entry: CalibrationEntry | null): Promise<string | null>;
  analyze(): Promise<string | null>;
  reload(): Promise<void>;
}

const sameLandmarks = (a: LandmarkSet, b: LandmarkSet): boolean => movedNames(a, b).length === 0;
const wait = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

function movedNames(a: LandmarkSet, b: LandmarkSet): LandmarkName[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)] as LandmarkName[]);
  return [...names].filter((n) => a[n]?.x !== b[n]?.x || a[n]?.y !== b[n]?.y);
}

export function useStudyEditor(imageId: number): { editor: StudyEditor | null; error: string | null } {
  const [detail, setDetail] = useState<StudyDetail | null>(null);
  const [image, setImage] = useState<OpenedImage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [history, setHistory] = useState<History<LandmarkSet>>(createHistory({}));
  const [saveState, setSaveState] = useState<SaveState>({ kind: 'saved' });
  const queueRef = useRef<SaveQueue<LandmarkSet, LandmarkName> | null>(null);
  const historyRef = useRef(history);
  historyRef.current = history;

  const refreshDetail = useCallback(
    async (resetLandmarks: boolean) => {
      const r = await api.loadStudy({ imageId });
      // A refresh lost with the connection keeps the study on screen; the save queue reports the outage.
      if (!r.ok) {
        if (r.error.code !== 'transport') setError(r.error.message);
        return;
      }
      setDetail(r.value);
      if (resetLandmarks) {
        queueRef.current?.setBaseVersionId(r.value.latest?.versionId ?? null);
        setHistory(createHistory(r.value.latest ? toLandmarkSet(r.value.latest.points) : {}));
      }
    },
    [imageId],
  );
  const refreshRef = useRef(refreshDetail);
  refreshRef.current = refreshDetail;

  /** One queue per open study: saves run in order, each on top of the version the previous one created. */
  const queue = useCallback((): SaveQueue<LandmarkSet, LandmarkName> => {
    if (queueRef.current) return queueRef.current;
    queueRef.current = createSaveQueue<LandmarkSet, LandmarkName>(
      {
        save: async (item, base) => {
          const r = await api.saveLandmarks({
            imageId,
            baseVersionId: base,
            landmarks: fromLandmarkSet(item.landmarks),
            moved: [...item.moved],
          });
          return r.ok ? { ok: true, value: { versionId: r.value.versionId } } : r;
        },
        latest: async () => {
          const r = await api.loadStudy({ imageId });
          if (!r.ok) return r;
          const latest = r.value.latest;
          return {
            ok: true,
            value: latest ? { versionId: latest.versionId, landmarks: toLandmarkSet(latest.points) } : null,
          };
        },
        sameLandmarks,
        onState: setSaveState,
        onDrained: () => {
          void refreshRef.current(false);
        },
        wait,
      },
      null,
    );
    return queueRef.current;
  }, [imageId]);

  useEffect(() => {
    let cancelled = false;
    setDetail(null);
    setImage(null);
    setError(null);
    void (async () => {
      const [d, px] = await Promise.all([api.loadStudy({ imageId }), api.loadImagePixels({ imageId })]);
      if (cancelled) return;
      if (!d.ok) {
        setError(d.error.message);
        return;
      }
      if (!px.ok) {
        setError(px.error.message);
        return;
      }
      queueRef.current = null;
      queue().setBaseVersionId(d.value.latest?.versionId ?? null);
      setHistory(createHistory(d.value.latest ? toLandmarkSet(d.value.latest.points) : {}));
      setDetail(d.value);
      setImage(px.value);
    })();
    return () => {
      cancelled = true;
    };
  }, [imageId, queue]);

  const spacing = detail?.info.spacing ?? null;
  const ai = useMemo(() => (detail?.ai ? toLandmarkSet(detail.ai.points) : null), [detail?.ai]);
  const ageYears = detail?.info.meta.ageYears ?? null;
  const sex = detail?.info.meta.sex ?? null;
  const expectedErrorMm = useMemo(
    () => expectedErrorsOf(detail?.ai?.modelRun?.quality).mm,
    [detail?.ai?.modelRun?.quality],
  );
  const assessment = useMemo(() => {
    if (Object.keys(history.present).length === 0) return null;
    // Landmarks still where the model put them carry its expected error; moved ones are a person's.
    return assess(history.present, spacing ? { rowMm: spacing.rowMm, colMm: spacing.colMm } : null, undefined, {
      landmarkErrorMm: modelPlacedErrors(history.present, ai, expectedErrorMm),
      ageYears,
      sex,
    });
  }, [history.present, spacing, ai, expectedErrorMm, ageYears, sex]);

  const save = useCallback(
    (landmarks: LandmarkSet, moved: readonly LandmarkName[]) => {
      queue().push({ landmarks, moved });
    },
    [queue],
  );

  /** Undo or redo: one step through the history, saved as a new version like any gesture. */
  const travel = useCallback(
    (can: (h: History<LandmarkSet>) => boolean, move: (h: History<LandmarkSet>) => History<LandmarkSet>) => {
      const h = historyRef.current;
      if (!can(h)) return;
      const next = move(h);
      setHistory(next);
      save(next.present, movedNames(h.present, next.present));
    },
    [save],
  );

  const editor = useMemo((): StudyEditor | null => {
    if (!detail || !image) return null;
    return {
      detail,
      image,
      landmarks: history.present,
      ai,
      assessment,
      saveState,
      canUndo: canUndo(history),
      canRedo: canRedo(history),
      previewLandmarks: (next) => setHistory((h) => preview(h, next)),
      commitGesture: (before, moved, after) => {
        const next = after ?? historyRef.current.present;
        setHistory((h) => commit(h, next, before));
        save(next, moved);
      },
      undo: () => travel(canUndo, undo),
      redo: () => travel(canRedo, redo),
      resetToAi: (names) => {
        if (!ai) return;
        const before = historyRef.current.present;
        const next: LandmarkSet = { ...before };
        for (const n of names) if (ai[n]) next[n] = ai[n];
        const moved = movedNames(before, next);
        if (moved.length === 0) return;
        setHistory((h) => commit(h, next, before));
        save(next, moved);
      },
      revertTo: async (versionId) => {
        await queue().idle();
        const r = await api.revertLandmarks({
          imageId,
          toVersionId: versionId,
          baseVersionId: queue().baseVersionId(),
        });
        if (!r.ok) {
          setSaveState({ kind: 'error', message: r.error.message });
          return;
        }
        const before = historyRef.current.present;
        await refreshDetail(false);
        const d = await api.loadStudy({ imageId });
        if (d.ok && d.value.latest) {
          queue().setBaseVersionId(d.value.latest.versionId);
          const next = toLandmarkSet(d.value.latest.points);
          setHistory((h) => commit(h, next, before));
          setDetail(d.value);
        }
      },
      setReview: async (status, confirmation) => {
        await queue().idle();
        const r = await api.setReviewStatus({ imageId, status, ...(confirmation ? { confirmation } : {}) });
        if (!r.ok) return r.error.message;
        await refreshDetail(false);
        return null;
      },
      setPatientInfo: async (info) => {
        const r = await api.setPatientInfo({ imageId, ...info });
        if (!r.ok) return r.error.message;
        setDetail(r.value);
        return null;
      },
      setCalibration: async (entry) => {
        const calibration =
          entry === null
            ? null
            : entry.method === 'entered'
              ? { method: entry.method, spacingMm: entry.spacingMm }
              : {
                  method: entry.method,
                  a: { x: entry.a.x, y: entry.a.y },
                  b: { x: entry.b.x, y: entry.b.y },
                  knownMm: entry.knownMm,
                };
        const r = await api.setCalibration({ imageId, calibration });
        if (!r.ok) return r.error.message;
        await refreshDetail(false);
        return null;
      },
      analyze: async () => {
        await queue().idle();
        const r = await api.analyzeImage({ imageId });
        if (!r.ok) return r.error.message;
        // Not a lateral cephalogram: nothing was recorded or drawn; say why.
        if (!r.value.prediction.recognition.lateralCephalogram) return r.value.summary;
        await refreshDetail(true);
        return null;
      },
      reload: async () => {
        await queue().idle();
        await refreshDetail(true);
        setSaveState({ kind: 'saved' });
      },
    };
  }, [detail, image, history, ai, assessment, saveState, save, travel, imageId, refreshDetail, queue]);

  return { editor, error };
}
