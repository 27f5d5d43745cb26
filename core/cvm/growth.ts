/** Expected timing of the peak in mandibular growth for each stage (McNamara & Franchi 2018), for the orthodontist. */
import type { CvmStage } from './types';

export const PEAK_GROWTH: Record<CvmStage, string> = {
  CS1: 'Prepubertal: the peak in mandibular growth is expected at least two years from now.',
  CS2: 'Prepubertal: the peak in mandibular growth is expected in about one year.',
  CS3: 'Circumpubertal: the peak in mandibular growth is expected within the coming year; a good time to start functional treatment.',
  CS4: 'Circumpubertal: the peak in mandibular growth occurred within the past one to two years; some growth remains.',
  CS5: 'Postpubertal: the peak in mandibular growth ended at least one year ago.',
  CS6: 'Postpubertal: the peak in mandibular growth ended at least two years ago.',
};
