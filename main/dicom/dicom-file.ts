/** A DICOM file -> OpenedImage. */
import type { ImageInfo, ImagePixels, OpenedImage } from '../../core/api/image';
import { ImageDecodeError } from './errors';
import { readMeta } from './meta';
import { invalidVrWarning, parseDicomBytes } from './parse';
import { buildPixels, type PipelineResult } from './pipeline';
import { decodeStoredFrame, readPixelModule, statisticsSuffice, type UnreadPixelData } from './pixels';
import { readSpacing } from './spacing';
import { textReader } from './text';
import { describeUnsupportedSyntax, findTransferSyntax } from './transfer-syntax';

/** What `cvm info` reports of an image: everything but the display pixels. */
export interface ImageSummary {
  readonly info: ImageInfo;
  readonly pixels: Omit<ImagePixels, 'data'>;
}

export function decodeDicomFile(fileName: string, bytes: Uint8Array, frame: number): Promise<OpenedImage>;
/**
 * `unread` (summaries only): the bytes hold the file but for part of its Pixel Data, which is read from the file
 * on demand: a frame the summary can take statistics of streams from it, anything else loads it first.
 */
export function decodeDicomFile(
  fileName: string,
  bytes: Uint8Array,
  frame: number,
  withData: false,
  unread?: UnreadPixelData,
): Promise<ImageSummary>;
export async function decodeDicomFile(
  fileName: string,
  bytes: Uint8Array,
  frame: number,
  withData = true,
  unread?: UnreadPixelData,
): Promise<OpenedImage | ImageSummary> {
  const parsed = parseDicomBytes(fileName, bytes);
  const { dataSet } = parsed;
  const syntax = findTransferSyntax(parsed.transferSyntaxUid);
  if (!dataSet.elements.x7fe00010)
    throw new ImageDecodeError('corrupt-file', fileName, 'the file has no Pixel Data (7FE0,0010): it is not an image');
  if (!syntax) {
    throw new ImageDecodeError(
      'unsupported',
      fileName,
      `the transfer syntax ${describeUnsupportedSyntax(parsed.transferSyntaxUid)} is not supported`,
    );
  }
  const module = readPixelModule(fileName, dataSet);
  const streamed =
    unread !== undefined && !withData && statisticsSuffice(dataSet, module, syntax, parsed.transferSyntaxUid);
  if (unread && !streamed) unread.fill();
  const stored = await decodeStoredFrame(fileName, dataSet, module, syntax, frame, streamed ? unread : undefined);
  // Shown with low values light: MONOCHROME1, and MONOCHROME2 whose Presentation LUT Shape (2050,0020) is INVERSE
  // (dcmtk's dcm2pnm inverts it too). MONOCHROME1 stays inverted whatever the shape says.
  const presentationInverse =
    module.photometric === 'MONOCHROME2' && dataSet.string('x20500020')?.trim().toUpperCase() === 'INVERSE';
  const monochrome1 = module.photometric === 'MONOCHROME1' || presentationInverse;
  const result = buildPixels(
    fileName,
    dataSet,
    stored,
    module.columns,
    module.rows,
    module.signed,
    monochrome1,
    withData,
  );
  const text = textReader(dataSet);
  const spacing = readSpacing(dataSet);
  const notes = [
    ...(parsed.layoutNote ? [`layout: ${parsed.layoutNote}`] : []),
    `character set: ${text.charsetNote}`,
    `modality transform: ${result.modalityTransform}`,
    ...(result.voiLutApplied ? ['VOI LUT applied to the pixel values (the file gives no window centre/width)'] : []),
    ...(result.voiLutIgnored
      ? ['VOI LUT Sequence not applied: the file also gives window centre/width presets, which are used']
      : []),
    ...(module.samplesPerPixel === 3 ? [`colour (${module.photometric}) converted to grey (luma)`] : []),
    ...(presentationInverse
      ? ['Presentation LUT Shape INVERSE: shown inverted (low values light), as the file asks']
      : []),
  ];
  return {
    info: {
      fileName,
      format: 'dicom',
      width: module.columns,
      height: module.rows,
      frames: module.frames,
      spacing: spacing.spacing,
      bitsStored: module.bitsStored,
      photometric: module.photometric,
      invertedFromMonochrome1: monochrome1,
      transferSyntax: { uid: syntax.uid, name: syntax.name },
      meta: readMeta(text),
      notes,
      warnings: [
        ...invalidVrWarning(dataSet, parsed.transferSyntaxUid),
        ...(stored.warnings ?? []),
        ...spacing.warnings,
        ...result.warnings,
      ].map((w) => `${fileName}: ${w}`),
    },
    pixels: withData ? withPixelData(fileName, result.pixels) : withoutPixelData(result.pixels),
  };
}

function withPixelData(fileName: string, pixels: PipelineResult['pixels']): ImagePixels {
  const { data } = pixels;
  if (data === null) throw new Error(`${fileName}: the display pixels were asked for but not made`);
  return { ...pixels, data };
}

function withoutPixelData(pixels: PipelineResult['pixels']): Omit<ImagePixels, 'data'> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the pixels are left out on purpose
  const { data, ...rest } = pixels;
  return rest;
}
