/**
 * `cvm analyze <files or folders...>`: landmarks, spacing, confidence, stage with explanation, model,
 * provider and timings for each image, with a progress bar on a terminal (JSON lines with --json) and
 * Ctrl-C to cancel the rest of a batch.
 */
import path from 'node:path';
import { parseCommandLine, walkInputs } from '../args';
import type { AnalysisResult } from '../../../core/api/analysis';
import type { Spacing } from '../../../core/api/image';
import {
  analyzeFiles,
  enteredSpacing,
  HandRadiographError,
  type BatchProgressInfo,
} from '../../services/file-analysis';
import { type Command, UsageError } from '../command';
import { defaultDataDir } from '../../services/data-dir';

const IMAGE_EXTENSIONS = new Set(['', '.dcm', '.dicom', '.ima', '.png', '.jpg', '.jpeg', '.tif', '.tiff']);

/**
 * Files as given, and image files found (recursively, sorted) in folders; FIFOs, devices and link loops are skipped.
 */
export function collectFiles(inputs: readonly string[]): string[] {
  const walked = walkInputs(inputs, (name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()));
  for (const why of walked.skipped) console.error(`skipped: ${why}`);
  return walked.files;
}

export function parseSpacingOption(value: string | undefined): Spacing | null {
  if (value === undefined) return null;
  const mm = Number(value);
  if (!Number.isFinite(mm) || mm <= 0 || mm > 10)
    throw new UsageError(`--spacing must be mm per pixel (a positive number), got "${value}"`);
  return enteredSpacing(mm, `--spacing ${value} on the command line`);
}

const f = (v: number, d = 1): string => v.toFixed(d);
const ms = (v: number | null): string => (v === null ? '-' : `${f(v)} ms`);

export function formatResult(file: string, r: AnalysisResult): string {
  const p = r.prediction;
  const lines: string[] = [];
  const spacing = r.spacing
    ? `${f(r.spacing.rowMm, 4)} x ${f(r.spacing.colMm, 4)} mm/px (${r.spacing.source}: ${r.spacing.detail})`
    : 'unknown: measurements in px';
  lines.push(`${file}  ${p.imageWidth}x${p.imageHeight}`);
  lines.push(`  spacing     ${spacing}`);
  if (p.roiScale.estimated) lines.push(`  ROI scale   ${p.roiScale.detail}`);
  lines.push(`  model       ${p.model.id} ${p.model.version} (manifest sha256 ${p.model.manifestSha256.slice(0, 12)})`);
  lines.push(
    `  provider    ${p.provider.used} (ran on ${p.provider.placement.join(', ') || 'unknown'})${p.provider.fallbackReason ? `; not faster because ${p.provider.fallbackReason}` : ''}`,
  );
  for (const w of r.fileWarnings ?? []) lines.push(`  warning     ${w}`);
  lines.push(`  result      ${r.summary}${r.stageCertain ? '' : '  [NOT CERTAIN]'}`);
  lines.push(`  orientation ${p.orientation.corrected ? p.orientation.detail : 'upright, facing right, as stored'}`);
  if (p.anatomy) {
    lines.push(
      `  anatomy     shape distance ${f(p.anatomy.shapeDistance, 0)} (plausible up to ${f(p.anatomy.limit, 0)}): ${p.anatomy.plausible ? 'a plausible C2-C4 column' : 'NOT a plausible C2-C4 column'}${p.anatomy.reselected.length > 0 ? `; a weaker peak chosen for ${p.anatomy.reselected.join(', ')}` : ''}`,
    );
  }
  if (!p.recognition.lateralCephalogram) {
    lines.push(`  timings     decode ${ms(r.timings.decodeMs)}, analysis ${ms(r.timings.inferenceMs)}`);
    return lines.join('\n');
  }
  if (r.assessment.ok) {
    const st = r.assessment.staging;
    lines.push(
      `  P(stage)    ${st.probabilities.map((q, i) => `CS${i + 1} ${(q * 100).toFixed(0)}%`).join('  ')}  (${st.model.id} ${st.model.version})`,
    );
    lines.push(`  growth      ${st.peakGrowth.text}`);
    if (st.age?.flag) lines.push(`  age         ${st.age.flag}`);
    const res = r.assessment.result;
    lines.push(`  textbook    ${res.kind === 'stage' ? res.rule : res.reason}`);
    for (const c of res.comparisons)
      lines.push(`    ${c.deciding ? '*' : ' '} ${c.outcome}${c.withinTolerance ? ' (within tolerance)' : ''}`);
    for (const n of res.notes) lines.push(`    note: ${n}`);
  }
  lines.push(
    `  landmark        x px      y px${r.spacing ? '      x mm      y mm' : ''}  exp.err  stage1 shift  flags`,
  );
  for (const l of p.landmarks) {
    const mm = r.spacing
      ? `${f(l.x * r.spacing.colMm, 2).padStart(10)}${f(l.y * r.spacing.rowMm, 2).padStart(10)}`
      : '';
    const shift = Math.hypot(l.x - l.stage1.x, l.y - l.stage1.y);
    lines.push(
      `  ${l.name.padEnd(8)}${f(l.x, 2).padStart(10)}${f(l.y, 2).padStart(10)}${mm}${(l.expectedErrorMm === null ? '-' : `${f(l.expectedErrorMm, 2)} mm`).padStart(9)}${`${f(shift, 1)} px`.padStart(14)}  ${l.issues.join(', ')}`,
    );
  }
  const t = p.timings;
  lines.push(
    `  timings     decode ${ms(r.timings.decodeMs)}, preprocess ${ms(t.preprocessMs)}, locate ${ms(t.locateMs)}, crop ${ms(t.cropMs)}, refine ${ms(t.refineMs)}, postprocess ${ms(t.postprocessMs)}, staging ${ms(r.timings.stagingMs)}; file to stage ${ms(r.timings.totalMs)}`,
  );
  return lines.join('\n');
}

/** The CLI's wording of a failure; a hand points to the command that handles it. */
function errorText(error: Error): string {
  if (error instanceof HandRadiographError)
    return `a hand-wrist radiograph (P hand ${error.handProbability.toFixed(2)}): no vertebral landmarks; use cvm boneage`;
  return error.message;
}

function jsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function progressBar(p: BatchProgressInfo): string {
  const width = 30;
  const filled = Math.round((p.done / Math.max(1, p.total)) * width);
  const eta = p.etaMs === null ? '' : ` ${Math.ceil(p.etaMs / 1000)} s left`;
  const current = p.current ? ` ${path.basename(p.current)}` : '';
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total}${eta}${current}`
    .padEnd(100)
    .slice(0, 110);
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'landmarks and CVM stage of image files with the ONNX model',
  usage: 'cvm analyze <files or folders...> [--json] [--model <id or folder>] [--spacing <mm>] [--data-dir <dir>]',
  async run(argv) {
    const { values, positionals } = parseCommandLine({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        model: { type: 'string' },
        spacing: { type: 'string' },
        'data-dir': { type: 'string' },
      },
    });
    if (positionals.length === 0) throw new UsageError('give at least one file or folder');
    const spacing = parseSpacingOption(values.spacing);
    const files = collectFiles(positionals);
    if (files.length === 0) throw new UsageError(`no image files in ${positionals.join(', ')}`);
    const json = values.json ?? false;
    const bar = !json && process.stderr.isTTY && files.length > 1;
    const controller = new AbortController();
    const onSigint = (): void => {
      controller.abort();
      process.stderr.write('\ncancelling: the image in progress finishes, no further image starts\n');
    };
    process.once('SIGINT', onSigint);
    try {
      // The app's analysis path on files (main/services/file-analysis.ts): hands refused, the same engine and
      // staging; decoding in the decoder worker one file ahead. Only the presentation below is the CLI's own.
      const outcome = await analyzeFiles(files, {
        dataDir: values['data-dir'] ?? defaultDataDir(),
        ...(values.model ? { model: values.model } : {}),
        spacing,
        signal: controller.signal,
        onEvent: (e) =>
          console.error(
            e.kind === 'worker-crashed'
              ? `inference worker crashed: ${e.message}; restarting`
              : 'inference worker restarted',
          ),
        onStart: (analyzer) => {
          if (json)
            jsonLine({
              type: 'start',
              files: files.length,
              model: analyzer.modelRef,
              provider: analyzer.provider,
              sessionCreateMs: analyzer.sessionCreateMs,
            });
        },
        onProgress: (p) => {
          if (json)
            jsonLine({
              type: 'progress',
              done: p.done,
              total: p.total,
              failed: p.failed,
              current: p.current,
              etaMs: p.etaMs,
            });
          else if (bar) process.stderr.write(progressBar(p));
        },
        onItem: (r) => {
          if (bar) process.stderr.write('\r'.padEnd(110) + '\r');
          const message = r.ok ? '' : errorText(r.error);
          if (json)
            jsonLine(
              r.ok
                ? { type: 'result', file: r.label, result: r.value }
                : { type: 'error', file: r.label, error: message },
            );
          else console.log(r.ok ? `${formatResult(r.label, r.value)}\n` : `${r.label}\n  error       ${message}\n`);
        },
      });
      if (bar) process.stderr.write('\r'.padEnd(110) + '\r');
      const failed = outcome.items.filter((i) => !i.ok).length;
      if (json)
        jsonLine({
          type: 'done',
          done: outcome.items.length,
          total: files.length,
          failed,
          cancelled: outcome.cancelled,
          elapsedMs: outcome.elapsedMs,
        });
      else if (files.length > 1 || outcome.cancelled) {
        console.log(
          `${outcome.items.length}/${files.length} analysed, ${failed} failed${outcome.cancelled ? ', cancelled' : ''}, ${f(outcome.elapsedMs / 1000)} s`,
        );
      }
      return outcome.cancelled ? 130 : failed > 0 ? 1 : 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
