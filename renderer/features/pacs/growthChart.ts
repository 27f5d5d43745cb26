/**
 * The growth chart's data and its chart.js configuration, shared by the study view (dark, on screen) and the
 * one-page report (light, printed). The chart is data-driven: each series comes from a source function of
 * the patient's timeline and names the axis it is drawn against, so another kind of measurement across visits
 * (the bone age of the hand-wrist radiographs) is one more source added with `registerGrowthSeries`, not a
 * change to either chart.
 */
import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
  type ScaleOptions,
} from 'chart.js';
import type { TimelineResponse, TimelineVisitView } from '../../../core/api/pacs';
import { boneAgeGrowthSeries } from '../study/boneAgeChart';

Chart.register(
  LineController,
  ScatterController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Tooltip,
  Legend,
);

/** The y axes a series can be drawn against. */
export type GrowthAxis = 'stage' | 'probability' | 'years';

export interface GrowthPoint {
  /** Age in years (or years since the first visit when no age is known). */
  readonly x: number;
  readonly y: number | null;
  /** The visit being viewed (drawn larger). */
  readonly current: boolean;
}

export interface GrowthSeries {
  readonly id: string;
  readonly label: string;
  readonly axis: GrowthAxis;
  /** Colour on screen (dark background) and in print (white paper). */
  readonly color: { readonly screen: string; readonly print: string };
  readonly dash?: readonly number[];
  readonly points: readonly GrowthPoint[];
}

/** Makes series from a timeline; `x` places a visit on the age axis (null: undated, not drawn). */
export type GrowthSeriesSource = (
  timeline: TimelineResponse,
  x: (v: TimelineVisitView) => number | null,
  currentImageId: number | null,
) => readonly GrowthSeries[];

const STAGE_NUMBER: Record<string, number> = { CS1: 1, CS2: 2, CS3: 3, CS4: 4, CS5: 5, CS6: 6 };

const pointsOf = (
  timeline: TimelineResponse,
  x: (v: TimelineVisitView) => number | null,
  current: number | null,
  y: (v: TimelineVisitView) => number | null,
): GrowthPoint[] =>
  timeline.visits.flatMap((v) => {
    const px = x(v);
    return px === null ? [] : [{ x: px, y: y(v), current: v.imageId === current }];
  });

const cvmStage: GrowthSeriesSource = (t, x, current) => [
  {
    id: 'cvm-stage',
    label: 'CVM stage',
    axis: 'stage',
    color: { screen: '#4da3ff', print: '#1f5fa8' },
    points: pointsOf(t, x, current, (v) => (v.stage ? (STAGE_NUMBER[v.stage] ?? null) : null)),
  },
];

const peakPassed: GrowthSeriesSource = (t, x, current) => [
  {
    id: 'p-peak-passed',
    label: 'P(peak passed)',
    axis: 'probability',
    color: { screen: '#f2b544', print: '#a86a00' },
    dash: [4, 3],
    points: pointsOf(t, x, current, (v) => v.pPeakPassed),
  },
];

// bone age of the hand-wrist visits, on the 'years' axis (the bone-age area's series: ../study/boneAgeChart.ts)
const boneAge: GrowthSeriesSource = (t, x, current) => boneAgeGrowthSeries(t, x, current);

const sources: GrowthSeriesSource[] = [cvmStage, peakPassed, boneAge];

/** Adds a series source (e.g. bone age on the 'years' axis) to every growth chart, on screen and in the report. */
export function registerGrowthSeries(source: GrowthSeriesSource): void {
  if (!sources.includes(source)) sources.push(source);
}

/** Whether the x axis is the age (true) or years since the first visit (no age known). */
export function byAge(timeline: TimelineResponse): boolean {
  return timeline.visits.some((v) => v.ageYears !== null);
}

/** Every registered series of the timeline; series without a single value are left out. */
export function growthSeries(timeline: TimelineResponse, currentImageId: number | null): GrowthSeries[] {
  const dated = timeline.visits
    .map((v) => (v.studyDate ? Date.parse(v.studyDate) : NaN))
    .filter((t) => Number.isFinite(t));
  const first = dated.length ? Math.min(...dated) : null;
  const x = (v: TimelineVisitView): number | null => {
    if (v.ageYears !== null) return v.ageYears;
    if (v.studyDate && first !== null) return (Date.parse(v.studyDate) - first) / (365.25 * 86_400_000);
    return null;
  };
  return sources
    .flatMap((source) => source(timeline, x, currentImageId))
    .filter((s) => s.points.some((p) => p.y !== null));
}

export interface GrowthTheme {
  readonly kind: 'screen' | 'print';
  readonly text: string;
  readonly grid: string;
  readonly font?: string;
  /** Font size of ticks and legend in CSS pixels of the chart. */
  readonly fontSize?: number;
  /** Point radius of the visit viewed and of the others, and the line width, in CSS pixels. */
  readonly points: readonly [number, number];
  readonly lineWidth: number;
}

export const SCREEN_THEME: GrowthTheme = {
  kind: 'screen',
  text: '#9ba6b3',
  grid: '#2c3540',
  points: [6, 4],
  lineWidth: 3,
};
export const PRINT_THEME: GrowthTheme = {
  kind: 'print',
  text: '#3a3f47',
  grid: '#d5d9de',
  font: 'ReportSans',
  fontSize: 7,
  points: [3.5, 2.5],
  lineWidth: 1.4,
};

type LinearScaleOptions = ScaleOptions<'linear'>;

function axisOptions(
  axis: GrowthAxis,
  theme: GrowthTheme,
  side: 'left' | 'right',
  series: GrowthSeries[],
): LinearScaleOptions {
  const ticks = { color: theme.text };
  if (axis === 'stage')
    return {
      type: 'linear',
      position: side,
      min: 0.6,
      max: 6.4,
      afterBuildTicks: (a) => {
        a.ticks = [1, 2, 3, 4, 5, 6].map((value) => ({ value }));
      },
      ticks: { ...ticks, autoSkip: false, callback: (v) => `CS${v}` },
      grid: { color: theme.grid },
    };
  if (axis === 'probability') {
    const color = series.find((s) => s.axis === 'probability')?.color[theme.kind] ?? theme.text;
    return {
      type: 'linear',
      position: side,
      min: -0.08,
      max: 1.08,
      afterBuildTicks: (a) => {
        a.ticks = [0, 0.25, 0.5, 0.75, 1].map((value) => ({ value }));
      },
      ticks: { color, callback: (v) => `${Math.round(Number(v) * 100)}%` },
      grid: { display: false },
    };
  }
  const values = series
    .filter((s) => s.axis === 'years')
    .flatMap((s) => s.points.flatMap((p) => (p.y === null ? [] : [p.y])));
  return {
    type: 'linear',
    position: side,
    min: Math.floor(Math.min(...values) - 0.5),
    max: Math.ceil(Math.max(...values) + 0.5),
    title: { display: true, text: 'years', color: theme.text },
    ticks,
    grid: { display: false },
  };
}

/** The chart.js configuration of a set of series: x = age, one y axis per axis used (first on the left). */
export function growthChartConfig(
  series: readonly GrowthSeries[],
  theme: GrowthTheme,
  options: { byAge: boolean; devicePixelRatio?: number },
): ChartConfiguration<'line', Array<{ x: number; y: number | null }>> {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const axes = [...new Set(series.map((s) => s.axis))];
  const font = { ...(theme.font ? { family: theme.font } : {}), ...(theme.fontSize ? { size: theme.fontSize } : {}) };
  const scales: Record<string, LinearScaleOptions> = {
    x: {
      type: 'linear',
      min: Math.floor(Math.min(...xs) - 0.5),
      max: Math.ceil(Math.max(...xs) + 0.5),
      title: {
        display: true,
        text: options.byAge ? 'age (years)' : 'years since the first visit',
        color: theme.text,
        font,
      },
      ticks: { color: theme.text, font },
      grid: { color: theme.grid },
    },
  };
  axes.forEach((axis, i) => {
    const a = axisOptions(axis, theme, i === 0 ? 'left' : 'right', [...series]);
    scales[axis] = { ...a, ticks: { ...a.ticks, font } };
  });
  return {
    type: 'line',
    data: {
      datasets: series.map((s) => ({
        label: s.label,
        data: s.points.map((p) => ({ x: p.x, y: p.y })),
        yAxisID: s.axis,
        borderColor: s.color[theme.kind],
        backgroundColor: s.color[theme.kind],
        borderDash: s.dash ? [...s.dash] : [],
        pointRadius: s.points.map((p) => (p.current ? theme.points[0] : theme.points[1])),
        borderWidth: theme.lineWidth,
        spanGaps: true,
      })),
    },
    options: {
      animation: false,
      responsive: theme.kind === 'screen',
      maintainAspectRatio: false,
      parsing: false,
      ...(options.devicePixelRatio ? { devicePixelRatio: options.devicePixelRatio } : {}),
      scales,
      plugins: {
        legend: {
          labels: {
            color: theme.kind === 'screen' ? '#e8ebef' : theme.text,
            boxWidth: 12,
            ...(theme.kind === 'print' ? { boxHeight: 3, padding: 6 } : {}),
            font,
          },
        },
        tooltip: { enabled: theme.kind === 'screen' },
      },
    },
  };
}

/**
 * The chart drawn once on a canvas of `width` x `height` CSS pixels at `scale` device pixels each (for print),
 * copied so it survives the chart's destruction. Null when there is nothing to draw.
 */
export function drawGrowthChart(
  timeline: TimelineResponse,
  currentImageId: number | null,
  width: number,
  height: number,
  scale: number,
  theme: GrowthTheme = PRINT_THEME,
): HTMLCanvasElement | null {
  const series = growthSeries(timeline, currentImageId);
  if (series.length === 0) return null;
  const work = document.createElement('canvas');
  work.width = width;
  work.height = height;
  const chart = new Chart(work, growthChartConfig(series, theme, { byAge: byAge(timeline), devicePixelRatio: scale }));
  const out = document.createElement('canvas');
  out.width = work.width;
  out.height = work.height;
  const ctx = out.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas for the growth chart');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(work, 0, 0);
  chart.destroy();
  return out;
}
