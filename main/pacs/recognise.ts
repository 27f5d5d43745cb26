/**
 * Is this instance a lateral cephalogram, from what its DICOM header says: the SOP class (an image, not a
 * report or a presentation state), the modality (a projection radiograph), the body part (head or neck) and
 * the view (lateral). What the header does not say is not held against the image: it is kept, and the note
 * says so. The header is the first filter (before anything is fetched); the image classifier
 * (models/radiograph-kind, `imageVerdict` below) then decides on the retrieved pixels.
 */
import type { RadiographKindView } from '../../core/api/boneage';

export interface InstanceAttributes {
  readonly sopClassUid: string | null;
  readonly modality: string | null;
  readonly bodyPart: string | null;
  readonly viewPosition: string | null;
  readonly seriesDescription: string | null;
}

export type Recognition =
  { readonly cephalogram: true; readonly note: string } | { readonly cephalogram: false; readonly reason: string };

/** Image storage classes a cephalogram arrives in: CR, DX (both), and (grey) Secondary Capture of scanned films. */
const RADIOGRAPH_CLASSES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.1': 'CR',
  '1.2.840.10008.5.1.4.1.1.1.1': 'DX for presentation',
  '1.2.840.10008.5.1.4.1.1.1.1.1': 'DX for processing',
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture',
  '1.2.840.10008.5.1.4.1.1.7.2': 'Multi-frame Grayscale Byte Secondary Capture',
  '1.2.840.10008.5.1.4.1.1.7.3': 'Multi-frame Grayscale Word Secondary Capture',
};
const RADIOGRAPH_MODALITIES = new Set(['CR', 'DX', 'RG', 'DR', 'OT', 'SC']);
const OTHER_MODALITIES: Record<string, string> = {
  PX: 'a panoramic radiograph',
  IO: 'an intra-oral radiograph',
  MG: 'a mammogram',
  CT: 'a CT',
  MR: 'an MR',
  US: 'an ultrasound',
  NM: 'a nuclear-medicine image',
  PT: 'a PET image',
  XA: 'an angiogram',
  RF: 'a fluoroscopy',
  SR: 'a structured report',
  KO: 'a key-object selection',
  PR: 'a presentation state',
  DOC: 'a document',
  OP: 'an ophthalmic photograph',
  XC: 'a photograph',
};
const HEAD_NECK = new Set([
  'SKULL',
  'HEAD',
  'FACE',
  'JAW',
  'TMJ',
  'CSPINE',
  'NECK',
  'HEADNECK',
  'MAXILLA',
  'MANDIBLE',
  'SELLA',
  'ORBIT',
  'NOSE',
  'SINUS',
  'HEAD NECK',
]);
const LATERAL_VIEWS = new Set(['LL', 'RL', 'LAT', 'LATERAL', 'LLD', 'RLD']);
const CEPH_WORDS = /ceph|lateral|\blat\b|telerad|fernr/i;

export function recogniseCephalogram(a: InstanceAttributes): Recognition {
  if (a.sopClassUid && !(a.sopClassUid in RADIOGRAPH_CLASSES)) {
    return {
      cephalogram: false,
      reason: `SOP class ${a.sopClassUid} is not a radiograph image (CR, DX or Secondary Capture)`,
    };
  }
  const modality = a.modality?.toUpperCase() ?? null;
  if (modality && OTHER_MODALITIES[modality])
    return { cephalogram: false, reason: `modality ${modality}: ${OTHER_MODALITIES[modality]}, not a cephalogram` };
  if (modality && !RADIOGRAPH_MODALITIES.has(modality))
    return { cephalogram: false, reason: `modality ${modality} is not a projection radiograph` };
  const described = a.seriesDescription !== null && CEPH_WORDS.test(a.seriesDescription);
  const body = a.bodyPart?.toUpperCase().trim() || null;
  if (body && !HEAD_NECK.has(body) && !described)
    return { cephalogram: false, reason: `body part ${body} is not the head or neck` };
  const view = a.viewPosition?.toUpperCase().trim() || null;
  if (view && !LATERAL_VIEWS.has(view) && !described)
    return { cephalogram: false, reason: `view ${view} is not lateral` };
  const said = [
    modality && `modality ${modality}`,
    body && `body part ${body}`,
    view && `view ${view}`,
    described && `series "${a.seriesDescription}"`,
  ].filter(Boolean);
  const missing = [!body && 'body part', !view && 'view'].filter(Boolean);
  return {
    cephalogram: true,
    note: `recognised from the DICOM header (${said.join(', ') || 'nothing stated'})${missing.length ? `; the header does not state the ${missing.join(' or ')}` : ''}; the image itself was not checked`,
  };
}

const HAND_PARTS = new Set(['HAND', 'WRIST', 'FINGER', 'HAND WRIST', 'HANDWRIST']);
const HAND_WORDS = /\bhand|wrist|bone ?age|carp/i;

/** Does the header say this is a hand-wrist radiograph (a bone-age candidate)? */
export function headerSaysHand(a: InstanceAttributes): boolean {
  if (a.sopClassUid && !(a.sopClassUid in RADIOGRAPH_CLASSES)) return false;
  const modality = a.modality?.toUpperCase() ?? null;
  if (modality && !RADIOGRAPH_MODALITIES.has(modality)) return false;
  const body = a.bodyPart?.toUpperCase().trim() ?? '';
  return HAND_PARTS.has(body) || (a.seriesDescription !== null && HAND_WORDS.test(a.seriesDescription));
}

/** What a pull does with a retrieved image once the image classifier has seen it. */
export type ImageVerdict =
  { readonly route: 'cvm' | 'boneage'; readonly note: string } | { readonly route: 'skip'; readonly reason: string };

const pct = (p: number): string => `${Math.round(p * 100)}%`;
const odds = (k: RadiographKindView): string =>
  `P cephalogram ${pct(k.probabilities.cephalogram)}, hand ${pct(k.probabilities.hand)}, other ${pct(k.probabilities.other)}`;

/**
 * The classifier's kind against what the header said. A confident kind decides: a cephalogram is analysed, a
 * hand goes to bone age, anything else is skipped. An unsure classifier leaves the header's decision
 * standing (a cephalogram stays, a hand stays a bone-age candidate), and the note says so.
 */
export function imageVerdict(header: 'cephalogram' | 'hand', kind: RadiographKindView): ImageVerdict {
  const model = `${kind.model.id} ${kind.model.version}`;
  if (!kind.uncertain) {
    if (kind.kind === 'cephalogram')
      return { route: 'cvm', note: `the image classifier (${model}) recognised a lateral cephalogram (${odds(kind)})` };
    if (kind.kind === 'hand')
      return {
        route: 'boneage',
        note: `a hand-wrist radiograph for the image classifier (${model}; ${odds(kind)}): routed to bone age, no vertebral landmarks`,
      };
    return {
      route: 'skip',
      reason: `not a lateral cephalogram or a hand for the image classifier (${model}; ${odds(kind)}), although the header ${header === 'hand' ? 'names a hand' : 'allows a cephalogram'}`,
    };
  }
  return {
    route: header === 'hand' ? 'boneage' : 'cvm',
    note: `kept from the header: the image classifier (${model}) was not sure (${odds(kind)}); check the image`,
  };
}

/** A confident "other" or hand contradicted by a plausible C2-C4 column of the landmark model: kept, to check. */
export function columnOverrulesClassifier(kind: RadiographKindView): ImageVerdict {
  const took = kind.kind === 'hand' ? 'a hand-wrist radiograph' : 'neither a cephalogram nor a hand';
  return {
    route: 'cvm',
    note: `the image classifier (${kind.model.id} ${kind.model.version}) took it for ${took} (${odds(kind)}), but the landmark model found a plausible C2-C4 column: kept for staging; check that it is a lateral cephalogram`,
  };
}
