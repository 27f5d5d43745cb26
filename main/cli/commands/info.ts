/** `cvm info <file>`: what the workstation reads from an image file (DICOM, PNG, JPEG). */
import { parseCommandLine } from '../args';
import { ImageDecodeError, summarizeImageFileAt, type ImageSummary } from '../../services/files';
import { type Command, UsageError } from '../command';
import { writeStdoutSync } from '../stdout';

/** Everything `info` reports, without the pixels. */
export function infoReport(image: ImageSummary): Record<string, unknown> {
  const { info, pixels } = image;
  return {
    file: info.fileName,
    format: info.format,
    width: info.width,
    height: info.height,
    frames: info.frames,
    bitsStored: info.bitsStored,
    photometric: info.photometric,
    invertedFromMonochrome1: info.invertedFromMonochrome1,
    transferSyntax: info.transferSyntax,
    spacing: info.spacing ?? {
      uncalibrated: true,
      detail: 'no pixel spacing in the file: mark a known distance or type the spacing',
    },
    meta: info.meta,
    windows: pixels.windows,
    modality: {
      slope: pixels.modalitySlope,
      intercept: pixels.modalityIntercept,
      voiLutApplied: pixels.voiLutApplied ?? false,
    },
    turnedByTag: info.turnedByTag ?? null,
    pageShown: info.pageShown ?? null,
    notes: info.notes ?? [],
    warnings: info.warnings ?? [],
  };
}

const show = (v: unknown) => (v === null || v === undefined || v === '' ? '-' : String(v));

export function infoSummary(image: ImageSummary): string {
  const { info, pixels } = image;
  const m = info.meta;
  const lines = [
    `${info.fileName}: ${info.format.toUpperCase()} ${info.width}x${info.height}, ${info.frames} frame(s), ${info.bitsStored} bits, ${info.photometric}${info.invertedFromMonochrome1 ? ' (inverted for display)' : ''}`,
    `  transfer syntax: ${info.transferSyntax ? `${info.transferSyntax.name} (${info.transferSyntax.uid})` : '-'}`,
    `  spacing: ${info.spacing ? `${info.spacing.rowMm} x ${info.spacing.colMm} mm, source ${info.spacing.source}: ${info.spacing.detail}` : 'uncalibrated (measurements in px until calibrated)'}`,
    `  patient: ${show(m.patientName)}, ID ${show(m.patientId)}, sex ${show(m.sex)}, born ${show(m.birthDate)}, age ${m.ageYears === null ? '-' : `${m.ageYears.toFixed(2)} y`} at study`,
    `  study: ${show(m.studyDate)} ${show(m.studyDescription)}; modality ${show(m.modality)}; ${show(m.manufacturer)} ${show(m.manufacturerModel)}; ${show(m.institution)}`,
    `  windows (data units 0..65535; first is the default):`,
    ...pixels.windows.map((w) => `    ${w.name}: centre ${w.center.toFixed(1)}, width ${w.width.toFixed(1)}`),
    ...(info.turnedByTag ? [`  turned: ${info.turnedByTag}, as image viewers show it`] : []),
    ...(info.pageShown ? [`  page: ${info.pageShown} is shown`] : []),
    ...(info.notes ?? []).map((n) => `  note: ${n}`),
    ...(info.warnings ?? []).map((w) => `  warning: ${w}`),
  ];
  return lines.join('\n');
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'size, frames, spacing and its source, transfer syntax, metadata and windows of an image file',
  usage: 'cvm info <file> [--json] [--frame <n>]',
  async run(argv) {
    const { values, positionals } = parseCommandLine({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, frame: { type: 'string' } },
    });
    const [file] = positionals;
    if (positionals.length !== 1 || file === undefined) throw new UsageError('give exactly one file');
    const frame = values.frame === undefined ? 1 : Number(values.frame);
    if (!Number.isInteger(frame) || frame < 1)
      throw new UsageError(`--frame must be a whole number from 1, not "${values.frame}"`);
    try {
      // A regular file within the size limit: a FIFO or /dev/zero is refused at once, never read.
      // The windows and mapping without the display pixels: nothing here shows them.
      const image = await summarizeImageFileAt(file, { frame: frame - 1 });
      // Written at once, without Node's stdout stream: this command's whole cost is its start (../stdout.ts).
      writeStdoutSync(`${values.json ? JSON.stringify(infoReport(image), null, 2) : infoSummary(image)}\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof ImageDecodeError)) throw error;
      if (values.json)
        console.log(
          JSON.stringify({ file: error.fileName, error: { code: error.code, message: error.message } }, null, 2),
        );
      console.error(`cvm info: ${error.message}`);
      return 1;
    }
  },
};
