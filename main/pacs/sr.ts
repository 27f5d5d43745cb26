/**
 * The CVM result as a DICOM Comprehensive SR following TID 1500 (Measurement Report) as far as it fits:
 * observer context (reviewer, the model as device), the source image in the image library, one measurement
 * group with the stage (and its probabilities when the staging model gives them), the key measurements with
 * UCUM units, the 13 landmarks as SCOORD points selected from the source image, and the algorithm name and
 * version. Approved results are VERIFIED with the reviewer as verifying observer; others UNVERIFIED. A
 * re-sent result names the SR it supersedes in PredecessorDocumentsSequence. Explicit VR little endian,
 * UTF-8 text (ISO_IR 192).
 */
import { LANDMARKS } from '../../core/landmarks/index';
import type { LandmarkPoints, StageSummary } from '../../core/api/studies';
import type { CvmStage, Measurements } from '../../core/cvm/types';
import { CVM_STAGES } from '../../core/cvm/types';
import { el, writeDicom, type DicomElement } from '../dicom/writer';
import type { SourceImage } from './source';
import { newUid } from './uid';

export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
/** Our private coding scheme for concepts no standard coding covers (CVM stages, the 13 landmarks). */
export const PRIVATE_SCHEME = '99CVMWS';

type Code = readonly [value: string, scheme: string, meaning: string];

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (g: number, e: number, vr: string, s: string): DicomElement => el(g, e, vr, utf8(s));

/** A decimal string of at most 16 characters. */
export function ds(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as a DICOM decimal string`);
  for (let p = 15; p >= 1; p--) {
    const s = Number(value.toPrecision(p)).toString();
    if (s.length <= 16) return s;
  }
  return value.toExponential(6);
}

const codeItem = (c: Code): DicomElement[] => [
  el(0x0008, 0x0100, 'SH', c[0]),
  el(0x0008, 0x0102, 'SH', c[1]),
  text(0x0008, 0x0104, 'LO', c[2]),
];
const codeSeq = (g: number, e: number, c: Code): DicomElement => el(g, e, 'SQ', [codeItem(c)]);

type Item = DicomElement[];

function item(relationship: string | null, valueType: string, concept: Code | null, rest: DicomElement[]): Item {
  const out: DicomElement[] = [];
  if (relationship) out.push(el(0x0040, 0xa010, 'CS', relationship));
  out.push(el(0x0040, 0xa040, 'CS', valueType));
  if (concept) out.push(codeSeq(0x0040, 0xa043, concept));
  return [...out, ...rest];
}

const container = (rel: string | null, concept: Code, children: Item[], extra: DicomElement[] = []): Item =>
  item(rel, 'CONTAINER', concept, [el(0x0040, 0xa050, 'CS', 'SEPARATE'), ...extra, el(0x0040, 0xa730, 'SQ', children)]);
const textItem = (rel: string, concept: Code, value: string): Item =>
  item(rel, 'TEXT', concept, [text(0x0040, 0xa160, 'UT', value)]);
const codeValue = (rel: string, concept: Code, value: Code): Item =>
  item(rel, 'CODE', concept, [codeSeq(0x0040, 0xa168, value)]);
const pname = (rel: string, concept: Code, name: string): Item =>
  item(rel, 'PNAME', concept, [text(0x0040, 0xa123, 'PN', name)]);
const uidref = (rel: string, concept: Code, uid: string): Item =>
  item(rel, 'UIDREF', concept, [el(0x0040, 0xa124, 'UI', uid)]);
const num = (rel: string, concept: Code, value: number, unit: Code): Item =>
  item(rel, 'NUM', concept, [
    el(0x0040, 0xa300, 'SQ', [[codeSeq(0x0040, 0x08ea, unit), el(0x0040, 0xa30a, 'DS', ds(value))]]),
  ]);
const imageRef = (rel: string, concept: Code | null, src: Pick<SourceImage, 'sopClassUid' | 'sopInstanceUid'>): Item =>
  item(rel, 'IMAGE', concept, [
    el(0x0008, 0x1199, 'SQ', [
      [el(0x0008, 0x1150, 'UI', src.sopClassUid), el(0x0008, 0x1155, 'UI', src.sopInstanceUid)],
    ]),
  ]);

const UNIT: Record<'mm' | 'px' | '%' | 'ratio' | 'unity', Code> = {
  mm: ['mm', 'UCUM', 'millimeter'],
  px: ['{pixels}', 'UCUM', 'pixels'],
  '%': ['%', 'UCUM', 'percent'],
  ratio: ['{ratio}', 'UCUM', 'ratio'],
  unity: ['1', 'UCUM', 'no units'],
};

export const CODES = {
  report: ['126000', 'DCM', 'Imaging Measurement Report'] as Code,
  language: ['121049', 'DCM', 'Language of Content Item and Descendants'] as Code,
  english: ['en-US', 'RFC5646', 'English (United States)'] as Code,
  personObserver: ['121008', 'DCM', 'Person Observer Name'] as Code,
  observerType: ['121005', 'DCM', 'Observer Type'] as Code,
  device: ['121007', 'DCM', 'Device'] as Code,
  person: ['121006', 'DCM', 'Person'] as Code,
  deviceUid: ['121012', 'DCM', 'Device Observer UID'] as Code,
  deviceName: ['121013', 'DCM', 'Device Observer Name'] as Code,
  deviceManufacturer: ['121014', 'DCM', 'Device Observer Manufacturer'] as Code,
  deviceModel: ['121015', 'DCM', 'Device Observer Model Name'] as Code,
  procedure: ['121058', 'DCM', 'Procedure reported'] as Code,
  radiography: ['363680008', 'SCT', 'Radiographic imaging procedure'] as Code,
  imageLibrary: ['111028', 'DCM', 'Image Library'] as Code,
  imageLibraryGroup: ['126200', 'DCM', 'Image Library Group'] as Code,
  measurements: ['126010', 'DCM', 'Imaging Measurements'] as Code,
  group: ['125007', 'DCM', 'Measurement Group'] as Code,
  trackingId: ['112039', 'DCM', 'Tracking Identifier'] as Code,
  trackingUid: ['112040', 'DCM', 'Tracking Unique Identifier'] as Code,
  algorithmName: ['111001', 'DCM', 'Algorithm Name'] as Code,
  algorithmVersion: ['111003', 'DCM', 'Algorithm Version'] as Code,
  stage: ['CVM-STAGE', PRIVATE_SCHEME, 'Cervical vertebral maturation stage'] as Code,
  stageText: ['CVM-STAGE-TEXT', PRIVATE_SCHEME, 'Cervical vertebral maturation stage (as shown)'] as Code,
  landmarkSource: ['LANDMARK-SOURCE', PRIVATE_SCHEME, 'Landmark source'] as Code,
  probability: (s: CvmStage): Code => [`P-${s}`, PRIVATE_SCHEME, `Probability of ${s}`],
  stageCode: (s: CvmStage): Code => [s, PRIVATE_SCHEME, `Cervical stage ${s.slice(2)}`],
  landmark: (name: string, label: string): Code => [name, PRIVATE_SCHEME, `${name} (${label})`],
} as const;

export interface SrInput {
  readonly source: SourceImage;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly instanceNumber: number;
  readonly landmarks: LandmarkPoints;
  readonly stage: StageSummary | null;
  /** P(CS1..CS6) when the staging model gives them. */
  readonly probabilities: Partial<Record<CvmStage, number>> | null;
  readonly measurements: Measurements | null;
  readonly model: { readonly id: string; readonly version: string; readonly sha256: string } | null;
  /** Who last saved the landmarks, and how (e.g. "model prediction", "edited"). */
  readonly landmarkSource: string;
  readonly author: string;
  readonly review: { readonly approved: boolean; readonly by: string | null; readonly at: string | null };
  readonly predecessor: { readonly sopInstanceUid: string; readonly seriesInstanceUid: string } | null;
  readonly now: Date;
  readonly appVersion: string;
  readonly institution?: string | null;
}

function dicomDateTime(d: Date): { date: string; time: string; dt: string } {
  const iso = d.toISOString(); // UTC
  const date = iso.slice(0, 10).replaceAll('-', '');
  const time = iso.slice(11, 19).replaceAll(':', '');
  return { date, time, dt: `${date}${time}+0000` };
}

/** A deterministic UID for the model (device observer): the 2.25 root and the first 128 bits of its hash. */
export function modelDeviceUid(sha256: string): string {
  const hex = /^[0-9a-f]{32}/i.exec(sha256)?.[0] ?? '0'.repeat(32);
  return `2.25.${BigInt(`0x${hex}`).toString(10)}`;
}

function measurementItems(m: Measurements): Item[] {
  const len = m.unit === 'mm' ? UNIT.mm : UNIT.px;
  const lu = m.unit;
  const out: Item[] = [];
  for (const v of ['C2', 'C3', 'C4'] as const) {
    const c = m[v].concavity;
    out.push(
      num('CONTAINS', [`${v}-CONC-DEPTH`, PRIVATE_SCHEME, `${v} lower border concavity depth (${lu})`], c.depth, len),
    );
    out.push(
      num(
        'CONTAINS',
        [`${v}-CONC-SHARE`, PRIVATE_SCHEME, `${v} lower border concavity depth as share of the chord`],
        c.share * 100,
        UNIT['%'],
      ),
    );
  }
  for (const v of ['C3', 'C4'] as const) {
    const b = m[v].body;
    out.push(
      num('CONTAINS', [`${v}-ANT-H`, PRIVATE_SCHEME, `${v} anterior body height (${lu})`], b.anteriorHeight, len),
    );
    out.push(
      num('CONTAINS', [`${v}-POST-H`, PRIVATE_SCHEME, `${v} posterior body height (${lu})`], b.posteriorHeight, len),
    );
    out.push(num('CONTAINS', [`${v}-WIDTH`, PRIVATE_SCHEME, `${v} body width (${lu})`], b.width, len));
    out.push(num('CONTAINS', [`${v}-HEIGHT`, PRIVATE_SCHEME, `${v} body height (${lu})`], b.height, len));
    out.push(
      num('CONTAINS', [`${v}-WH-RATIO`, PRIVATE_SCHEME, `${v} body width to height ratio`], b.ratio, UNIT.ratio),
    );
    out.push(
      num(
        'CONTAINS',
        [`${v}-AP-RATIO`, PRIVATE_SCHEME, `${v} anterior to posterior height ratio`],
        b.heightRatio,
        UNIT.ratio,
      ),
    );
    out.push(textItem('CONTAINS', [`${v}-SHAPE`, PRIVATE_SCHEME, `${v} body shape`], b.shape));
  }
  return out;
}

/** The SR's content tree (root CONTAINER first). */
function contentTree(input: SrInput, trackingUid: string): DicomElement[] {
  const src = input.source;
  const observer = input.review.approved && input.review.by ? input.review.by : input.author;
  const context: Item[] = [
    codeValue('HAS CONCEPT MOD', CODES.language, CODES.english),
    codeValue('HAS OBS CONTEXT', CODES.observerType, CODES.person),
    pname('HAS OBS CONTEXT', CODES.personObserver, observer),
  ];
  if (input.model) {
    context.push(
      codeValue('HAS OBS CONTEXT', CODES.observerType, CODES.device),
      uidref('HAS OBS CONTEXT', CODES.deviceUid, modelDeviceUid(input.model.sha256)),
      textItem('HAS OBS CONTEXT', CODES.deviceName, input.model.id),
      textItem('HAS OBS CONTEXT', CODES.deviceManufacturer, 'CVM Workstation'),
      textItem('HAS OBS CONTEXT', CODES.deviceModel, `${input.model.id} ${input.model.version}`),
    );
  }
  context.push(codeValue('HAS CONCEPT MOD', CODES.procedure, CODES.radiography));

  const group: Item[] = [
    textItem('HAS OBS CONTEXT', CODES.trackingId, 'CVM stage and C2-C4 landmarks'),
    uidref('HAS OBS CONTEXT', CODES.trackingUid, trackingUid),
  ];
  if (input.stage?.kind === 'stage' && input.stage.stage) {
    group.push(codeValue('CONTAINS', CODES.stage, CODES.stageCode(input.stage.stage)));
  }
  group.push(textItem('CONTAINS', CODES.stageText, input.stage?.label ?? 'no landmarks'));
  if (input.probabilities) {
    for (const s of CVM_STAGES) {
      const p = input.probabilities[s];
      if (p !== undefined && Number.isFinite(p)) group.push(num('CONTAINS', CODES.probability(s), p, UNIT.unity));
    }
  }
  if (input.measurements) group.push(...measurementItems(input.measurements));
  for (const info of LANDMARKS) {
    const p = input.landmarks[info.name];
    if (!p) continue;
    // Our coordinates put pixel centres at integers; SCOORD puts the top-left corner of the image at 0\0.
    group.push(
      item('CONTAINS', 'SCOORD', CODES.landmark(info.name, info.label), [
        el(0x0070, 0x0022, 'FL', [p[0] + 0.5, p[1] + 0.5]),
        el(0x0070, 0x0023, 'CS', 'POINT'),
        el(0x0040, 0xa730, 'SQ', [imageRef('SELECTED FROM', null, src)]),
      ]),
    );
  }
  group.push(textItem('CONTAINS', CODES.landmarkSource, input.landmarkSource));
  if (input.model) {
    group.push(textItem('HAS CONCEPT MOD', CODES.algorithmName, input.model.id));
    group.push(textItem('HAS CONCEPT MOD', CODES.algorithmVersion, input.model.version));
  }

  const root = container(
    null,
    CODES.report,
    [
      ...context,
      container('CONTAINS', CODES.imageLibrary, [
        container('CONTAINS', CODES.imageLibraryGroup, [imageRef('CONTAINS', null, src)]),
      ]),
      container('CONTAINS', CODES.measurements, [container('CONTAINS', CODES.group, group)]),
    ],
    [el(0x0040, 0xa504, 'SQ', [[el(0x0008, 0x0105, 'CS', 'DCMR'), el(0x0040, 0xdb00, 'CS', '1500')]])],
  );
  // The root item's attributes sit at the top level of the data set.
  return root;
}

/** Sorts the elements of the data set and of every sequence item by tag, as DICOM requires. */
export function sortDeep(elements: readonly DicomElement[]): DicomElement[] {
  return [...elements]
    .map((e) => (e.vr === 'SQ' ? { ...e, value: (e.value as readonly DicomElement[][]).map(sortDeep) } : e))
    .sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1]);
}

/** Patient, study and equipment attributes shared by the SR and the Secondary Capture. */
export function commonAttributes(src: SourceImage, now: Date, appVersion: string): DicomElement[] {
  const { date, time } = dicomDateTime(now);
  const opt = (g: number, e: number, vr: string, v: string | null): DicomElement =>
    v ? text(g, e, vr, v) : el(g, e, vr, '');
  return [
    el(0x0008, 0x0005, 'CS', 'ISO_IR 192'),
    el(0x0008, 0x0012, 'DA', date),
    el(0x0008, 0x0013, 'TM', time),
    opt(0x0008, 0x0020, 'DA', src.studyDate),
    opt(0x0008, 0x0030, 'TM', src.studyTime),
    opt(0x0008, 0x0050, 'SH', src.accessionNumber),
    el(0x0008, 0x0070, 'LO', 'CVM Workstation'),
    opt(0x0008, 0x0090, 'PN', src.referringPhysicianName),
    opt(0x0008, 0x1030, 'LO', src.studyDescription),
    el(0x0008, 0x1090, 'LO', 'CVM Workstation'),
    opt(0x0010, 0x0010, 'PN', src.patientName),
    opt(0x0010, 0x0020, 'LO', src.patientId),
    ...(src.issuerOfPatientId ? [text(0x0010, 0x0021, 'LO', src.issuerOfPatientId)] : []),
    opt(0x0010, 0x0030, 'DA', src.birthDate),
    opt(0x0010, 0x0040, 'CS', src.sex),
    text(0x0018, 0x1020, 'LO', appVersion),
    el(0x0020, 0x000d, 'UI', src.studyInstanceUid),
    opt(0x0020, 0x0010, 'SH', src.studyId),
  ];
}

const referenceTree = (
  studyUid: string,
  refs: ReadonlyArray<{ series: string; sopClass: string; sop: string }>,
): DicomElement[][] => [
  [
    el(
      0x0008,
      0x1115,
      'SQ',
      [...new Set(refs.map((r) => r.series))].map((series) => [
        el(
          0x0008,
          0x1199,
          'SQ',
          refs
            .filter((r) => r.series === series)
            .map((r) => [el(0x0008, 0x1150, 'UI', r.sopClass), el(0x0008, 0x1155, 'UI', r.sop)]),
        ),
        el(0x0020, 0x000e, 'UI', series),
      ]),
    ),
    el(0x0020, 0x000d, 'UI', studyUid),
  ],
];

/** The SR as a Part 10 file. */
export function buildSr(input: SrInput): Uint8Array {
  const src = input.source;
  const { date, time } = dicomDateTime(input.now);
  const approved = input.review.approved;
  const elements: DicomElement[] = [
    ...commonAttributes(src, input.now, input.appVersion),
    el(0x0008, 0x0016, 'UI', COMPREHENSIVE_SR),
    el(0x0008, 0x0018, 'UI', input.sopInstanceUid),
    el(0x0008, 0x0023, 'DA', date),
    el(0x0008, 0x0033, 'TM', time),
    el(0x0008, 0x0060, 'CS', 'SR'),
    text(0x0008, 0x103e, 'LO', 'CVM assessment'),
    el(0x0008, 0x1111, 'SQ', []),
    el(0x0020, 0x000e, 'UI', input.seriesInstanceUid),
    el(0x0020, 0x0011, 'IS', '9901'),
    el(0x0020, 0x0013, 'IS', String(input.instanceNumber)),
    el(0x0040, 0xa491, 'CS', 'COMPLETE'),
    el(0x0040, 0xa493, 'CS', approved ? 'VERIFIED' : 'UNVERIFIED'),
    el(0x0040, 0xa372, 'SQ', []),
    el(
      0x0040,
      0xa375,
      'SQ',
      referenceTree(src.studyInstanceUid, [
        { series: src.seriesInstanceUid, sopClass: src.sopClassUid, sop: src.sopInstanceUid },
      ]),
    ),
    ...contentTree(input, newUid()),
  ];
  if (approved) {
    const at = input.review.at ? new Date(input.review.at) : input.now;
    elements.push(
      el(0x0040, 0xa073, 'SQ', [
        [
          el(0x0040, 0xa027, 'LO', 'CVM Workstation'),
          el(0x0040, 0xa030, 'DT', dicomDateTime(at).dt),
          text(0x0040, 0xa075, 'PN', input.review.by ?? input.author),
          el(0x0040, 0xa088, 'SQ', []),
        ],
      ]),
    );
  }
  if (input.predecessor) {
    elements.push(
      el(
        0x0040,
        0xa360,
        'SQ',
        referenceTree(src.studyInstanceUid, [
          {
            series: input.predecessor.seriesInstanceUid,
            sopClass: COMPREHENSIVE_SR,
            sop: input.predecessor.sopInstanceUid,
          },
        ]),
      ),
    );
  }
  elements.push(
    el(0x0008, 0x0110, 'SQ', [
      [
        el(0x0008, 0x0102, 'SH', PRIVATE_SCHEME),
        text(0x0008, 0x0115, 'ST', 'CVM Workstation concepts (stages, C2-C4 landmarks, vertebral measurements)'),
      ],
    ]),
  );
  return writeDicom(sortDeep(elements), { encoding: 'explicit-le' });
}
