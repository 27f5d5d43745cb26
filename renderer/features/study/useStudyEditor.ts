/**
 * Everything one open study needs: its stored detail, its pixels, the landmark history with one entry per
 * gesture, the live assessment (core/cvm, recomputed in the renderer on every change) and the save queue
 * that stores each gesture as a new version, in order.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { OpenedImage } from '../../../core/api/index';
import {
  fromLandmarkSet, toLandmarkSet, type ReviewStatus, type StudyDetail,
} from '../../../core/api/studies';
import { assess, type Assessment } from '../../../core/cvm/index';
import type { LandmarkName, LandmarkSet } from '../../../core/landmarks/index';
import { api } from '../../api';
import { canRedo, canUndo, commit, createHistory, preview, redo, undo, type History } from '../../state/history';

export type SaveState =
  | { readonly kind: 'saved' }
  | { readonly kind: 'saving'; readonly pending: number }
  | { readonly kind: 'error'; readonly message: string };

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
  setReview(status: ReviewStatus): Promise<void>;
  setCalibration(spacingMm: number | null, method: 'entered' | 'two-points', detail: string): Promise<string | null>;
  analyze(): Promise<string | null>;
  reload(): Promise<void>;
}

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
  const baseVersion = useRef<number | null>(null);
  const saveChain = useRef<Promise<void>>(Promise.resolve());
  const pending = useRef(0);
  const historyRef = useRef(history);
  historyRef.current = history;

  const refreshDetail = useCallback(async (resetLandmarks: boolean) => {
    const r = await api.loadStudy({ imageId });
    if (!r.ok) { setError(r.error.message); return; }
    setDetail(r.value);
    if (resetLandmarks) {
      baseVersion.current = r.value.latest?.versionId ?? null;
      setHistory(createHistory(r.value.latest ? toLandmarkSet(r.value.latest.points) : {}));
    }
  }, [imageId]);

  useEffect(() => {
    let cancelled = false;
    setDetail(null); setImage(null); setError(null);
    void (async () => {
      const [d, px] = await Promise.all([api.loadStudy({ imageId }), api.loadImagePixels({ imageId })]);
      if (cancelled) return;
      if (!d.ok) { setError(d.error.message); return; }
      if (!px.ok) { setError(px.error.message); return; }
      baseVersion.current = d.value.latest?.versionId ?? null;
      setHistory(createHistory(d.value.latest ? toLandmarkSet(d.value.latest.points) : {}));
      setDetail(d.value);
      setImage(px.value);
    })();
    return () => { cancelled = true; };
  }, [imageId]);

  const spacing = detail?.info.spacing ?? null;
  const assessment = useMemo(() => {
    if (Object.keys(history.present).length === 0) return null;
    return assess(history.present, spacing ? { rowMm: spacing.rowMm, colMm: spacing.colMm } : null);
  }, [history.present, spacing]);

  const ai = useMemo(() => (detail?.ai ? toLandmarkSet(detail.ai.points) : null), [detail?.ai]);

  /** Saves run one after another so each starts from the version the previous one created. */
  const save = useCallback((landmarks: LandmarkSet, moved: readonly LandmarkName[]) => {
    pending.current += 1;
    setSaveState({ kind: 'saving', pending: pending.current });
    saveChain.current = saveChain.current.then(async () => {
      const r = await api.saveLandmarks({ imageId, baseVersionId: baseVersion.current, landmarks: fromLandmarkSet(landmarks), moved: [...moved] });
      pending.current -= 1;
      if (!r.ok) {
        setSaveState({ kind: 'error', message: r.error.message });
        return;
      }
      baseVersion.current = r.value.versionId;
      if (pending.current === 0) {
        setSaveState({ kind: 'saved' });
        await refreshDetail(false);
      } else {
        setSaveState({ kind: 'saving', pending: pending.current });
      }
    });
  }, [imageId, refreshDetail]);

  const editor = useMemo((): StudyEditor | null => {
    if (!detail || !image) return null;
    return {
      detail, image, landmarks: history.present, ai, assessment, saveState,
      canUndo: canUndo(history), canRedo: canRedo(history),
      previewLandmarks: (next) => setHistory((h) => preview(h, next)),
      commitGesture: (before, moved, after) => {
        const next = after ?? historyRef.current.present;
        setHistory((h) => commit(h, next, before));
        save(next, moved);
      },
      undo: () => {
        const h = historyRef.current;
        if (!canUndo(h)) return;
        const u = undo(h);
        setHistory(u);
        save(u.present, movedNames(h.present, u.present));
      },
      redo: () => {
        const h = historyRef.current;
        if (!canRedo(h)) return;
        const r = redo(h);
        setHistory(r);
        save(r.present, movedNames(h.present, r.present));
      },
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
        await saveChain.current;
        const r = await api.revertLandmarks({ imageId, toVersionId: versionId, baseVersionId: baseVersion.current });
        if (!r.ok) { setSaveState({ kind: 'error', message: r.error.message }); return; }
        const before = historyRef.current.present;
        await refreshDetail(false);
        const d = await api.loadStudy({ imageId });
        if (d.ok && d.value.latest) {
          baseVersion.current = d.value.latest.versionId;
          const next = toLandmarkSet(d.value.latest.points);
          setHistory((h) => commit(h, next, before));
          setDetail(d.value);
        }
      },
      setReview: async (status) => {
        await saveChain.current;
        const r = await api.setReviewStatus({ imageId, status });
        if (!r.ok) { setSaveState({ kind: 'error', message: r.error.message }); return; }
        await refreshDetail(false);
      },
      setCalibration: async (spacingMm, method, detailText) => {
        const r = await api.setCalibration({ imageId, spacingMm, method, detail: detailText });
        if (!r.ok) return r.error.message;
        await refreshDetail(false);
        return null;
      },
      analyze: async () => {
        await saveChain.current;
        const r = await api.analyzeImage({ imageId });
        if (!r.ok) return r.error.message;
        // Not a lateral cephalogram: nothing was recorded or drawn; say why.
        if (!r.value.prediction.recognition.lateralCephalogram) return r.value.summary;
        await refreshDetail(true);
        return null;
      },
      reload: async () => {
        await saveChain.current;
        await refreshDetail(true);
        setSaveState({ kind: 'saved' });
      },
    };
  }, [detail, image, history, ai, assessment, saveState, save, imageId, refreshDetail]);

  return { editor, error };
}
