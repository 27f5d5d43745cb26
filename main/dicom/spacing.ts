/**
 * The physical pixel size a file declares, and which attribute it came from. Order (issue 4):
 * PixelSpacing; ImagerPixelSpacing divided by EstimatedRadiographicMagnificationFactor when present;
 * NominalScannedPixelSpacing; otherwise uncalibrated. A present but unusable value is never skipped
 * silently: the image opens uncalibrated and a warning names the attribute and its value.
 */
import type { DataSet } from 'dicom-parser';
import type { Spacing } from '../../core/api/image';

export interface SpacingResult {
  readonly spacing: Spacing | null;
  readonly warnings: readonly string[];
}

const PIXEL_SPACING = 'x00280030';
const IMAGER_PIXEL_SPACING = 'x00181164';
const MAGNIFICATION = 'x00181114';
const NOMINAL_SCANNED = 'x00182010';

/** Plausible pixel sizes: the same upper bound as a typed spacing (core/api), and a micron below. */
export const MAX_SPACING_MM = 10;
export const MIN_SPACING_MM = 0.001;

const fmt = (v: number) => String(Number(v.toPrecision(6)));

type Pair = { row: number; col: number } | { problem: string };

/** A DICOM "row\col" pair; the problem says why it is unusable. */
function readPair(dataSet: DataSet, tag: string, name: string): Pair | null {
  const raw = dataSet.string(tag);
  if (raw === undefined || raw.trim() === '') return null;
  const parts = raw.split('\\').map((p) => p.trim());
  const numbers = parts.map(Number);
  if (parts.length !== 2 || numbers.some((n, i) => parts[i] === '' || !Number.isFinite(n))) {
    return { problem: `${name} "${raw}" is not two numbers (row\\column spacing in mm)` };
  }
  const [row, col] = numbers as [number, number];
  if (row <= 0 || col <= 0)
    return { problem: `${name} "${raw}" is zero or negative; a pixel spacing must be positive` };
  if (row > MAX_SPACING_MM || col > MAX_SPACING_MM || row < MIN_SPACING_MM || col < MIN_SPACING_MM) {
    return {
      problem: `${name} "${raw}" is implausible for a radiograph (${MIN_SPACING_MM} to ${MAX_SPACING_MM} mm per pixel are accepted)`,
    };
  }
  return { row, col };
}

const uncalibrated = (why: string): SpacingResult => ({
  spacing: null,
  warnings: [`${why}: the image is uncalibrated`],
});
const calibrated = (rowMm: number, colMm: number, source: Spacing['source'], detail: string): SpacingResult => ({
  spacing: { rowMm, colMm, source, detail },
  warnings: [],
});

export function readSpacing(dataSet: DataSet): SpacingResult {
  const pixel = readPair(dataSet, PIXEL_SPACING, 'PixelSpacing (0028,0030)');
  if (pixel) {
    if ('problem' in pixel) return uncalibrated(pixel.problem);
    return calibrated(pixel.row, pixel.col, 'PixelSpacing', `PixelSpacing ${fmt(pixel.row)} x ${fmt(pixel.col)} mm`);
  }
  const imager = readPair(dataSet, IMAGER_PIXEL_SPACING, 'ImagerPixelSpacing (0018,1164)');
  if (imager) {
    if ('problem' in imager) return uncalibrated(imager.problem);
    const rawMagnification = dataSet.string(MAGNIFICATION);
    if (rawMagnification !== undefined && rawMagnification.trim() !== '') {
      const magnification = Number(rawMagnification.trim());
      if (!Number.isFinite(magnification) || magnification <= 0 || magnification < 0.1 || magnification > 10) {
        const why =
          !Number.isFinite(magnification) || magnification <= 0
            ? 'is not a positive number'
            : 'is not a plausible factor (0.1 to 10)';
        return uncalibrated(
          `EstimatedRadiographicMagnificationFactor (0018,1114) "${rawMagnification.trim()}" ${why}, so ImagerPixelSpacing cannot be corrected`,
        );
      }
      const row = imager.row / magnification;
      const col = imager.col / magnification;
      return calibrated(
        row,
        col,
        'ImagerPixelSpacing corrected by EstimatedRadiographicMagnificationFactor',
        `ImagerPixelSpacing ${fmt(imager.row)} x ${fmt(imager.col)} mm / magnification ${fmt(magnification)} = ${fmt(row)} x ${fmt(col)} mm`,
      );
    }
    return calibrated(
      imager.row,
      imager.col,
      'ImagerPixelSpacing',
      `ImagerPixelSpacing ${fmt(imager.row)} x ${fmt(imager.col)} mm at the detector, not corrected for magnification (no EstimatedRadiographicMagnificationFactor)`,
    );
  }
  const scanned = readPair(dataSet, NOMINAL_SCANNED, 'NominalScannedPixelSpacing (0018,2010)');
  if (scanned) {
    if ('problem' in scanned) return uncalibrated(scanned.problem);
    return calibrated(
      scanned.row,
      scanned.col,
      'NominalScannedPixelSpacing',
      `NominalScannedPixelSpacing ${fmt(scanned.row)} x ${fmt(scanned.col)} mm (scanned film)`,
    );
  }
  return { spacing: null, warnings: [] };
}
