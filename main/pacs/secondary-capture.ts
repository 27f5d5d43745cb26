/**
 * The one-page report as a DICOM Secondary Capture that any viewer shows: the pixels are the page the app drew
 * for the PNG/PDF report (report-page.ts; renderer/features/study/report.ts draws all three), 8-bit RGB,
 * written in Deflated Explicit VR Little Endian (a white page with text compresses about twentyfold).
 */
import { deflateRawSync } from 'node:zlib';
import { el, writeDicom, type DicomElement } from '../dicom/writer';
import type { ReportPagePixels } from './report-page';
import { commonAttributes, sortDeep } from './sr';
import type { SourceImage } from './source';

export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const DEFLATED_EXPLICIT_LE = '1.2.840.10008.1.2.1.99';

/** A whole DICOM file whose data set (after the meta header) is deflated, as its transfer syntax says. */
function deflated(file: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  // Preamble (128), "DICM" (4), then (0002,0000) UL: tag 4, VR 2, length 2, value 4 = the meta group's length.
  const metaEnd = 132 + 12 + view.getUint32(140, true);
  const body = deflateRawSync(file.subarray(metaEnd), { level: 6 });
  const out = new Uint8Array(metaEnd + body.length + (body.length % 2));
  out.set(file.subarray(0, metaEnd));
  out.set(body, metaEnd);
  return out;
}

export interface ScInput {
  readonly source: SourceImage;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly instanceNumber: number;
  readonly page: ReportPagePixels;
  readonly now: Date;
  readonly appVersion: string;
}

export function buildSecondaryCapture(input: ScInput): Uint8Array {
  const src = input.source;
  const elements: DicomElement[] = [
    ...commonAttributes(src, input.now, input.appVersion),
    el(0x0008, 0x0008, 'CS', 'DERIVED\\SECONDARY'),
    el(0x0008, 0x0016, 'UI', SECONDARY_CAPTURE),
    el(0x0008, 0x0018, 'UI', input.sopInstanceUid),
    el(0x0008, 0x0060, 'CS', 'OT'),
    el(0x0008, 0x0064, 'CS', 'WSD'),
    el(0x0008, 0x103e, 'LO', 'CVM report'),
    el(0x0008, 0x2111, 'ST', 'CVM assessment report page (the PNG/PDF report as drawn by the workstation)'),
    el(0x0008, 0x2112, 'SQ', [
      [el(0x0008, 0x1150, 'UI', src.sopClassUid), el(0x0008, 0x1155, 'UI', src.sopInstanceUid)],
    ]),
    el(0x0020, 0x000e, 'UI', input.seriesInstanceUid),
    el(0x0020, 0x0011, 'IS', '9902'),
    el(0x0020, 0x0013, 'IS', String(input.instanceNumber)),
    el(0x0020, 0x0020, 'CS', ''),
    el(0x0028, 0x0002, 'US', [3]),
    el(0x0028, 0x0004, 'CS', 'RGB'),
    el(0x0028, 0x0006, 'US', [0]),
    el(0x0028, 0x0010, 'US', [input.page.height]),
    el(0x0028, 0x0011, 'US', [input.page.width]),
    el(0x0028, 0x0100, 'US', [8]),
    el(0x0028, 0x0101, 'US', [8]),
    el(0x0028, 0x0102, 'US', [7]),
    el(0x0028, 0x0103, 'US', [0]),
    el(0x0028, 0x0301, 'CS', 'YES'),
    el(0x7fe0, 0x0010, 'OB', input.page.rgb),
  ];
  return deflated(writeDicom(sortDeep(elements), { encoding: 'explicit-le', transferSyntaxUid: DEFLATED_EXPLICIT_LE }));
}
