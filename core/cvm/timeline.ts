/**
 * A patient's growth across visits: each visit's age and stage (with probabilities when the staging model
 * gives them), the chance that the pubertal peak in mandibular growth has passed at each visit, and what
 * successive visits say about when it passed. The peak lies between CS3 and CS4 (McNamara & Franchi 2018):
 * CS1-CS3 are before it, CS4-CS6 after it. Pure: no Node, no DOM.
 */
import { CVM_STAGES, type CvmStage } from './types';

export interface TimelineVisitInput {
  readonly imageId: number;
  /** ISO yyyy-mm-dd. */
  readonly studyDate: string | null;
  /** Chronological age in years at the study. */
  readonly ageYears: number | null;
  readonly stage: CvmStage | null;
  readonly probabilities: Partial<Record<CvmStage, number>> | null;
  readonly reviewStatus: string;
}

export interface TimelineVisit extends TimelineVisitInput {
  /** P(peak already passed) = P(CS4) + P(CS5) + P(CS6), or 0/1 from the stage alone; null without a stage. */
  readonly pPeakPassed: number | null;
}

export type PeakFinding =
  | { readonly kind: 'no-stage'; readonly text: string }
  | { readonly kind: 'ahead'; readonly text: string; readonly afterAge: number | null }
  | { readonly kind: 'imminent'; readonly text: string; readonly afterAge: number | null }
  | {
      readonly kind: 'passed-between';
      readonly text: string;
      readonly fromAge: number | null;
      readonly toAge: number | null;
      readonly fromDate: string | null;
      readonly toDate: string | null;
    }
  | { readonly kind: 'passed-before'; readonly text: string; readonly beforeAge: number | null };

export interface Timeline {
  readonly visits: readonly TimelineVisit[];
  readonly peak: PeakFinding;
  /** Visits that contradict each other (a later visit at an earlier stage), one sentence each. */
  readonly inconsistencies: readonly string[];
}

const PRE: readonly CvmStage[] = ['CS1', 'CS2', 'CS3'];

export function peakPassedProbability(
  stage: CvmStage | null,
  probabilities: Partial<Record<CvmStage, number>> | null,
): number | null {
  if (probabilities) {
    const total = CVM_STAGES.reduce((n, s) => n + (probabilities[s] ?? 0), 0);
    if (total > 0)
      return CVM_STAGES.filter((s) => !PRE.includes(s)).reduce((n, s) => n + (probabilities[s] ?? 0), 0) / total;
  }
  if (!stage) return null;
  return PRE.includes(stage) ? 0 : 1;
}

const when = (v: TimelineVisitInput): string =>
  v.ageYears !== null ? `${v.ageYears.toFixed(1)} years` : (v.studyDate ?? 'an undated visit');
const order = (v: TimelineVisitInput): number =>
  v.ageYears ?? (v.studyDate ? Date.parse(v.studyDate) / (365.25 * 86_400_000) : Number.POSITIVE_INFINITY);

export function buildTimeline(inputs: readonly TimelineVisitInput[]): Timeline {
  const visits: TimelineVisit[] = [...inputs]
    .sort(
      (a, b) => order(a) - order(b) || (a.studyDate ?? '').localeCompare(b.studyDate ?? '') || a.imageId - b.imageId,
    )
    .map((v) => ({ ...v, pPeakPassed: peakPassedProbability(v.stage, v.probabilities) }));
  const staged = visits.filter((v): v is TimelineVisit & { pPeakPassed: number } => v.pPeakPassed !== null);
  const inconsistencies: string[] = [];
  for (const [i, b] of staged.entries()) {
    const a = staged[i - 1];
    if (a?.stage && b.stage && CVM_STAGES.indexOf(b.stage) < CVM_STAGES.indexOf(a.stage)) {
      inconsistencies.push(
        `The stage goes back from ${a.stage} at ${when(a)} to ${b.stage} at ${when(b)}: check the landmarks of both visits.`,
      );
    }
  }
  const last = staged.at(-1);
  if (!last) return { visits, peak: { kind: 'no-stage', text: 'No visit has a stage yet.' }, inconsistencies };

  const firstAfter = staged.findIndex((v) => v.pPeakPassed > 0.5);
  const after = staged[firstAfter];
  const before = staged[firstAfter - 1];
  let peak: PeakFinding;
  if (after && !before) {
    const v = after;
    peak = {
      kind: 'passed-before',
      beforeAge: v.ageYears,
      text: `Peak likely passed before ${when(v)} (the first visit is already ${v.stage ?? 'past the peak'}).`,
    };
  } else if (after && before) {
    const [a, b] = [before, after];
    const range =
      a.ageYears !== null && b.ageYears !== null
        ? `between ${a.ageYears.toFixed(1)} and ${b.ageYears.toFixed(1)} years`
        : `between ${a.studyDate ?? 'the earlier visit'} and ${b.studyDate ?? 'the later visit'}`;
    peak = {
      kind: 'passed-between',
      fromAge: a.ageYears,
      toAge: b.ageYears,
      fromDate: a.studyDate,
      toDate: b.studyDate,
      text: `Peak likely passed ${range} (${a.stage ?? 'before the peak'} then ${b.stage ?? 'after the peak'}).`,
    };
  } else {
    peak =
      last.stage === 'CS3'
        ? {
            kind: 'imminent',
            afterAge: last.ageYears,
            text: `Peak expected within the year after ${when(last)} (CS3 at the last visit).`,
          }
        : {
            kind: 'ahead',
            afterAge: last.ageYears,
            text: `Peak still ahead after ${when(last)} (${last.stage ?? 'before the peak'} at the last visit).`,
          };
  }
  return { visits, peak, inconsistencies };
}
