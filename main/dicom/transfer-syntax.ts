/** The transfer syntaxes this decoder reads, and which codec each needs. */
import type { NativeCodec } from './native-codecs';

export interface TransferSyntax {
  readonly uid: string;
  readonly name: string;
  /** null: native (uncompressed) pixel data. */
  readonly codec: NativeCodec | null;
  readonly bigEndian: boolean;
  readonly lossy: boolean;
}

const SYNTAXES: readonly TransferSyntax[] = [
  { uid: '1.2.840.10008.1.2', name: 'Implicit VR Little Endian', codec: null, bigEndian: false, lossy: false },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', codec: null, bigEndian: false, lossy: false },
  {
    uid: '1.2.840.10008.1.2.1.99',
    name: 'Deflated Explicit VR Little Endian',
    codec: null,
    bigEndian: false,
    lossy: false,
  },
  { uid: '1.2.840.10008.1.2.2', name: 'Explicit VR Big Endian', codec: null, bigEndian: true, lossy: false },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', codec: 'DecodeRle', bigEndian: false, lossy: false },
  {
    uid: '1.2.840.10008.1.2.4.50',
    name: 'JPEG Baseline (Process 1)',
    codec: 'DecodeJpeg',
    bigEndian: false,
    lossy: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.51',
    name: 'JPEG Extended (Process 2 & 4)',
    codec: 'DecodeJpeg',
    bigEndian: false,
    lossy: true,
  },
  // Retired in DICOM but still written, e.g. by dcmtk's img2dcm from a progressive JPEG: the same JPEG decoder reads
  // progressive streams (spectral selection alone, .53, is a subset of full progression).
  {
    uid: '1.2.840.10008.1.2.4.53',
    name: 'JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8, retired)',
    codec: 'DecodeJpeg',
    bigEndian: false,
    lossy: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.55',
    name: 'JPEG Full Progression, Non-Hierarchical (Process 10 & 12, retired)',
    codec: 'DecodeJpeg',
    bigEndian: false,
    lossy: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.57',
    name: 'JPEG Lossless, Non-Hierarchical (Process 14)',
    codec: 'DecodeJpeg',
    bigEndian: false,
    lossy: false,
  },
  {
    uid: '1.2.840.10008.1.2.4.70',
    name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1)',
    codec: 'DecodeJpeg',
    bigEndian: false,
    lossy: false,
  },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless', codec: 'DecodeJpegLs', bigEndian: false, lossy: false },
  {
    uid: '1.2.840.10008.1.2.4.81',
    name: 'JPEG-LS Lossy (Near-Lossless)',
    codec: 'DecodeJpegLs',
    bigEndian: false,
    lossy: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.90',
    name: 'JPEG 2000 Image Compression (Lossless Only)',
    codec: 'DecodeJpeg2000',
    bigEndian: false,
    lossy: false,
  },
  {
    uid: '1.2.840.10008.1.2.4.91',
    name: 'JPEG 2000 Image Compression',
    codec: 'DecodeJpeg2000',
    bigEndian: false,
    lossy: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.201',
    name: 'High-Throughput JPEG 2000 Image Compression (Lossless Only)',
    codec: 'DecodeHtJpeg2000',
    bigEndian: false,
    lossy: false,
  },
  {
    uid: '1.2.840.10008.1.2.4.202',
    name: 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)',
    codec: 'DecodeHtJpeg2000',
    bigEndian: false,
    lossy: false,
  },
  {
    uid: '1.2.840.10008.1.2.4.203',
    name: 'High-Throughput JPEG 2000 Image Compression',
    codec: 'DecodeHtJpeg2000',
    bigEndian: false,
    lossy: true,
  },
];

/** Names of syntaxes we recognise but cannot decode, for a precise refusal. */
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.101': 'MPEG2 Main Profile / High Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible High Profile',
  '1.2.840.10008.1.2.4.104': 'MPEG-4 AVC/H.264 High Profile For 2D Video',
  '1.2.840.10008.1.2.4.105': 'MPEG-4 AVC/H.264 High Profile For 3D Video',
  '1.2.840.10008.1.2.4.106': 'MPEG-4 AVC/H.264 Stereo High Profile',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 Main Profile',
  '1.2.840.10008.1.2.4.108': 'HEVC/H.265 Main 10 Profile',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.95': 'JPIP Referenced Deflate',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
  '1.2.840.10008.1.2.4.52': 'JPEG Extended (Process 3 & 5, retired)',
};

export function findTransferSyntax(uid: string): TransferSyntax | undefined {
  return SYNTAXES.find((s) => s.uid === uid);
}

export function describeUnsupportedSyntax(uid: string): string {
  const name = KNOWN_UNSUPPORTED[uid];
  return name ? `${name} (${uid})` : uid;
}
