/** What main tells the renderer about an opened image. */
import { s } from './schema';

/** Where a pixel spacing came from; shown to the user next to every measurement in mm. */
export type SpacingSource =
  | 'PixelSpacing'
  | 'ImagerPixelSpacing'
  | 'ImagerPixelSpacing corrected by EstimatedRadiographicMagnificationFactor'
  | 'NominalScannedPixelSpacing'
  /** TIFF XResolution/YResolution with ResolutionUnit inch or cm (not the 72/96 dpi defaults). */
  | 'TIFF resolution'
  | 'calibration'
  | 'entered';

export interface Spacing {
  /** Distance between rows (y), in mm. */
  readonly rowMm: number;
  /** Distance between columns (x), in mm. */
  readonly colMm: number;
  readonly source: SpacingSource;
  /** One line for the user, e.g. "ImagerPixelSpacing 0.143 mm / magnification 1.1". */
  readonly detail: string;
}

export interface WindowPreset {
  readonly name: string;
  /** Centre and width in the units of ImagePixels.data: center - width/2 shows black, center + width/2 white. */
  readonly center: number;
  readonly width: number;
}

/**
 * Display-ready grey pixels, always oriented like MONOCHROME2 (bright = dense). Values are the modality
 * values mapped linearly onto 0..65535: modality = data * modalitySlope + modalityIntercept.
 */
export interface ImagePixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint16Array;
  readonly modalitySlope: number;
  readonly modalityIntercept: number;
  /** The file's VOI presets, then an automatic one; the first is the default. */
  readonly windows: readonly WindowPreset[];
  /**
   * True when the file's only display transform was a (non-linear) VOI LUT: it has been applied, so data
   * are the VOI LUT output mapped onto 0..65535 (modalitySlope/Intercept then give VOI LUT output units,
   * not modality values) and the default window shows them as-is.
   */
  readonly voiLutApplied?: boolean;
}

export interface PatientStudyMeta {
  readonly patientName: string | null;
  readonly patientId: string | null;
  readonly sex: 'M' | 'F' | 'O' | null;
  readonly birthDate: string | null; // ISO yyyy-mm-dd
  readonly studyDate: string | null; // ISO yyyy-mm-dd
  readonly studyDescription: string | null;
  readonly studyInstanceUid: string | null;
  readonly modality: string | null;
  readonly manufacturer: string | null;
  readonly manufacturerModel: string | null;
  readonly institution: string | null;
  /** Chronological age at the study date, in years with decimals. */
  readonly ageYears: number | null;
}

export interface ImageInfo {
  readonly fileName: string;
  readonly format: 'dicom' | 'png' | 'jpeg' | 'tiff';
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  /** null: uncalibrated, measurements are in px. */
  readonly spacing: Spacing | null;
  readonly bitsStored: number;
  readonly photometric: string;
  /** True when the source was MONOCHROME1 and was inverted for display. */
  readonly invertedFromMonochrome1: boolean;
  readonly transferSyntax: { readonly uid: string; readonly name: string } | null;
  readonly meta: PatientStudyMeta;
  /** How the file was read, one line each (layout, character set, modality transform, VOI LUT). */
  readonly notes?: readonly string[];
  /**
   * How the file's Orientation tag (TIFF, JPEG Exif) turned the stored pixels to show them as image viewers do,
   * e.g. "rotated by 90° clockwise as its Exif Orientation (6) says"; absent when it did not.
   */
  readonly turnedByTag?: string;
  /** Which page of a multi-page file is shown, e.g. "page 2 of the 3 in the file (…)"; absent for one page. */
  readonly pageShown?: string;
  /** Problems the user should see, one sentence each naming the attribute (e.g. a zero PixelSpacing). */
  readonly warnings?: readonly string[];
}

export interface OpenedImage {
  readonly info: ImageInfo;
  readonly pixels: ImagePixels;
}

/** 512 MB: larger than any radiograph, small enough to refuse garbage early. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

export const fileUpload = s.object({
  name: s.string({ nonEmpty: true, maxLength: 1024 }),
  bytes: s.bytes(MAX_FILE_BYTES),
});
