/**
 * A DICOMweb client: QIDO-RS (search studies, series, instances, paged), WADO-RS (instances as
 * multipart/related application/dicom in their stored transfer syntax) and STOW-RS (store instances).
 */
import { randomBytes } from 'node:crypto';
import { nextPageSize, type PacsStudySummary } from '../../core/api/pacs';
import {
  PacsError,
  displayUrl,
  parseBaseUrl,
  request,
  statusError,
  type HttpResponse,
  type PacsConnection,
} from './http';

/** A DICOM JSON data set (PS3.18 F.2): tag -> {vr, Value}. */
export type DicomJson = Record<string, { vr: string; Value?: unknown[] } | undefined>;

export function jsonString(ds: DicomJson, tag: string): string | null {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null) return null;
  if (typeof v === 'object' && v !== null && 'Alphabetic' in v) return String((v as { Alphabetic: string }).Alphabetic);
  return String(v);
}

export function jsonStrings(ds: DicomJson, tag: string): string[] {
  return (ds[tag]?.Value ?? []).map((v) => String(v));
}

export interface StudySummary extends PacsStudySummary {
  readonly accession: string | null;
  readonly series: number | null;
}

export interface InstanceSummary {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string | null;
  readonly modality: string | null;
  readonly bodyPart: string | null;
  readonly viewPosition: string | null;
  readonly seriesDescription: string | null;
  readonly rows: number | null;
  readonly columns: number | null;
}

export interface StudyQuery {
  readonly patientId?: string;
  /** Matched with wildcards on both sides: "smith" finds "SMITH^JOHN". */
  readonly patientName?: string;
  /** ISO yyyy-mm-dd, inclusive. */
  readonly from?: string;
  readonly to?: string;
  readonly modality?: string;
  readonly studyInstanceUid?: string;
}

export interface StoreOutcome {
  readonly stored: readonly string[];
  readonly failed: ReadonlyArray<{ sopInstanceUid: string; reason: string }>;
}

const dicomDate = (iso: string): string => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) throw new PacsError('invalid-settings', `"${iso}" is not a date yyyy-mm-dd`);
  return iso.replaceAll('-', '');
};
const isoOf = (d: string | null): string | null =>
  d && /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d;

function studySummary(ds: DicomJson): StudySummary {
  const num = (tag: string): number | null => {
    const v = jsonString(ds, tag);
    return v === null ? null : Number(v);
  };
  return {
    studyInstanceUid: jsonString(ds, '0020000D') ?? '',
    patientId: jsonString(ds, '00100020'),
    issuerOfPatientId: jsonString(ds, '00100021'),
    patientName: jsonString(ds, '00100010'),
    birthDate: isoOf(jsonString(ds, '00100030')),
    sex: jsonString(ds, '00100040'),
    studyDate: isoOf(jsonString(ds, '00080020')),
    description: jsonString(ds, '00081030'),
    accession: jsonString(ds, '00080050'),
    modalities: jsonStrings(ds, '00080061'),
    series: num('00201206'),
    instances: num('00201208'),
  };
}

function instanceSummary(ds: DicomJson, studyUid: string): InstanceSummary {
  const num = (tag: string): number | null => {
    const v = jsonString(ds, tag);
    return v === null ? null : Number(v);
  };
  return {
    studyInstanceUid: jsonString(ds, '0020000D') ?? studyUid,
    seriesInstanceUid: jsonString(ds, '0020000E') ?? '',
    sopInstanceUid: jsonString(ds, '00080018') ?? '',
    sopClassUid: jsonString(ds, '00080016'),
    modality: jsonString(ds, '00080060'),
    bodyPart: jsonString(ds, '00180015'),
    viewPosition: jsonString(ds, '00185101'),
    seriesDescription: jsonString(ds, '0008103E'),
    rows: num('00280010'),
    columns: num('00280011'),
  };
}

/** Splits a multipart/related body into its parts (headers are not needed beyond the content type). */
export function parseMultipart(body: Buffer, contentType: string): Array<{ contentType: string | null; body: Buffer }> {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) throw new PacsError('not-dicomweb', `The answer is not multipart (content type "${contentType}").`);
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: Array<{ contentType: string | null; body: Buffer }> = [];
  let at = body.indexOf(boundary);
  if (at < 0) throw new PacsError('not-dicomweb', 'The multipart answer holds no part.');
  for (;;) {
    at += boundary.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) break; // closing "--"
    const headerEnd = body.indexOf('\r\n\r\n', at);
    if (headerEnd < 0) throw new PacsError('server', 'A multipart part is truncated (no end of headers).');
    const headers = body.subarray(at, headerEnd).toString('latin1');
    const next = body.indexOf(boundary, headerEnd + 4);
    if (next < 0) throw new PacsError('server', 'The multipart answer is truncated (no closing boundary).');
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    const ct = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim() ?? null;
    parts.push({ contentType: ct, body: body.subarray(headerEnd + 4, end) });
    at = next;
  }
  return parts;
}

export class DicomWebClient {
  readonly base: URL;

  constructor(readonly connection: PacsConnection) {
    this.base = parseBaseUrl(connection.url);
  }

  get displayUrl(): string {
    return displayUrl(this.base.toString());
  }

  private url(pathname: string, params?: Record<string, string | number | undefined | readonly string[]>): URL {
    const u = new URL(pathname.replace(/^\//, ''), this.base);
    for (const [k, v] of Object.entries(params ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) u.searchParams.append(k, x);
      else u.searchParams.set(k, String(v));
    }
    return u;
  }

  private async getJson(u: URL, signal?: AbortSignal): Promise<DicomJson[]> {
    const where = `GET ${displayUrl(u.toString())}`;
    const res = await request(this.connection, u, {
      headers: { accept: 'application/dicom+json, application/json' },
      signal,
      maxBytes: 256 * 1024 * 1024,
    });
    if (res.status === 204) return [];
    if (res.status < 200 || res.status >= 300) {
      const err = statusError(res, where);
      if (err.kind === 'not-found')
        throw new PacsError(
          'not-dicomweb',
          `${where}: 404 Not Found: this URL is not a DICOMweb root (expected <root>/studies to answer).`,
          404,
        );
      throw err;
    }
    return parseJsonArray(res, where);
  }

  /**
   * Checks that the URL is a DICOMweb root the credentials may query: one QIDO-RS study search. Resolves
   * with the server's answer time; rejects with a PacsError whose kind names the failure.
   */
  async testConnection(signal?: AbortSignal): Promise<{ ms: number; url: string }> {
    const start = performance.now();
    try {
      await this.getJson(this.url('studies', { limit: 1 }), signal);
    } catch (error) {
      // Any other client error to a plain study search means the URL is not a DICOMweb root.
      if (
        error instanceof PacsError &&
        error.kind === 'server' &&
        error.status !== undefined &&
        error.status >= 400 &&
        error.status < 500
      ) {
        throw new PacsError(
          'not-dicomweb',
          `${error.message} This URL does not answer DICOMweb study searches: give the DICOMweb root (e.g. .../dicom-web).`,
          error.status,
        );
      }
      throw error;
    }
    return { ms: Math.round(performance.now() - start), url: this.displayUrl };
  }

  /** One page of a QIDO-RS study search. */
  async searchStudies(
    query: StudyQuery,
    page: { offset: number; limit: number },
    signal?: AbortSignal,
  ): Promise<StudySummary[]> {
    const dateRange =
      query.from || query.to
        ? `${query.from ? dicomDate(query.from) : ''}-${query.to ? dicomDate(query.to) : ''}`
        : undefined;
    const rows = await this.getJson(
      this.url('studies', {
        PatientID: query.patientId || undefined,
        PatientName: query.patientName ? `*${query.patientName}*` : undefined,
        StudyDate: dateRange,
        ModalitiesInStudy: query.modality || undefined,
        StudyInstanceUID: query.studyInstanceUid || undefined,
        includefield: ['00100021', '00201206', '00201208', '00080061', '00100030', '00100040'],
        offset: page.offset,
        limit: page.limit,
      }),
      signal,
    );
    return rows.map(studySummary);
  }

  /** Every matching study, page by page (`onPage` after each, for progress and incremental display). */
  async searchAllStudies(
    query: StudyQuery,
    options: {
      /** A fixed page size; without it pages grow (nextPageSize: 200, then twice what is listed, up to 1000). */
      pageSize?: number;
      max?: number;
      signal?: AbortSignal;
      onPage?: (rows: readonly StudySummary[], total: number) => void;
    } = {},
  ): Promise<StudySummary[]> {
    const max = options.max ?? 100_000;
    const all: StudySummary[] = [];
    const seen = new Set<string>();
    while (all.length < max) {
      const want = Math.min(options.pageSize ?? nextPageSize(all.length), max - all.length);
      // One row more than the page: its presence says whether another page follows, so the last page is not
      // followed by an empty request (which costs a server as much as a full page: it still matches every study).
      const got = await this.searchStudies(query, { offset: all.length, limit: want + 1 }, options.signal);
      const page = got.slice(0, want);
      const fresh = page.filter((s) => !seen.has(s.studyInstanceUid));
      for (const s of fresh) seen.add(s.studyInstanceUid);
      all.push(...fresh);
      options.onPage?.(fresh, all.length);
      // A server that ignores offset sends the same page again: stop rather than loop.
      if (got.length <= want || fresh.length === 0) break;
    }
    return all;
  }

  /** The instances of a study with the attributes that recognise a lateral cephalogram. */
  async studyInstances(studyUid: string, signal?: AbortSignal): Promise<InstanceSummary[]> {
    const rows = await this.getJson(
      this.url(`studies/${encodeURIComponent(studyUid)}/instances`, {
        includefield: ['00080060', '00180015', '00185101', '0008103E', '00280010', '00280011', '0020000E', '00080016'],
      }),
      signal,
    );
    return rows.map((r) => instanceSummary(r, studyUid));
  }

  /** One instance as its Part 10 bytes, in the transfer syntax the server stores. */
  async retrieveInstance(
    i: Pick<InstanceSummary, 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid'>,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const u = this.url(
      `studies/${encodeURIComponent(i.studyInstanceUid)}/series/${encodeURIComponent(i.seriesInstanceUid)}/instances/${encodeURIComponent(i.sopInstanceUid)}`,
    );
    const where = `GET ${displayUrl(u.toString())}`;
    const res = await request(this.connection, u, {
      headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      signal,
    });
    if (res.status < 200 || res.status >= 300) throw statusError(res, where);
    const ct = String(res.headers['content-type'] ?? '');
    let bytes: Buffer;
    if (/^multipart\/related/i.test(ct)) {
      const parts = parseMultipart(res.body, ct);
      const [part] = parts;
      if (parts.length !== 1 || !part)
        throw new PacsError('server', `${where}: expected one instance, got ${parts.length} parts.`);
      bytes = part.body;
    } else if (/^application\/dicom/i.test(ct)) {
      bytes = res.body;
    } else {
      throw new PacsError('not-dicomweb', `${where}: the answer is ${ct || 'untyped'}, not DICOM.`);
    }
    if (bytes.length < 132 || bytes.toString('latin1', 128, 132) !== 'DICM') {
      throw new PacsError(
        'server',
        `${where}: the retrieved instance is not a DICOM Part 10 file (${bytes.length} bytes).`,
      );
    }
    return bytes;
  }

  /** STOW-RS: stores Part 10 instances in one request; resolves with what the server accepted and refused. */
  async storeInstances(
    instances: ReadonlyArray<{ sopInstanceUid: string; bytes: Uint8Array }>,
    studyUid?: string,
    signal?: AbortSignal,
  ): Promise<StoreOutcome> {
    const boundary = `cvm-${randomBytes(12).toString('hex')}`;
    const chunks: Buffer[] = [];
    for (const inst of instances) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1'));
      chunks.push(Buffer.from(inst.bytes.buffer, inst.bytes.byteOffset, inst.bytes.byteLength));
      chunks.push(Buffer.from('\r\n', 'latin1'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
    const u = this.url(studyUid ? `studies/${encodeURIComponent(studyUid)}` : 'studies');
    const where = `POST ${displayUrl(u.toString())}`;
    const res = await request(this.connection, u, {
      method: 'POST',
      body: chunks,
      signal,
      headers: {
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
        accept: 'application/dicom+json, application/json',
      },
    });
    if (res.status === 404)
      throw new PacsError('not-dicomweb', `${where}: 404 Not Found: this URL is not a DICOMweb root.`, 404);
    if (res.status !== 200 && res.status !== 202 && res.status !== 409) throw statusError(res, where);
    let answer: DicomJson = {};
    if (res.body.length > 0) {
      try {
        const parsed = JSON.parse(res.body.toString('utf8')) as DicomJson | DicomJson[];
        answer = Array.isArray(parsed) ? (parsed[0] ?? {}) : parsed;
      } catch {
        throw new PacsError('not-dicomweb', `${where}: the answer is not DICOM JSON.`);
      }
    }
    const refs = (tag: string): DicomJson[] => (answer[tag]?.Value ?? []) as DicomJson[];
    const stored = refs('00081199').map((r) => jsonString(r, '00081155') ?? '');
    const failed = refs('00081198').map((r) => ({
      sopInstanceUid: jsonString(r, '00081155') ?? '',
      reason: `failure reason ${jsonString(r, '00081197') ?? 'unknown'}`,
    }));
    for (const inst of instances) {
      if (!stored.includes(inst.sopInstanceUid) && !failed.some((f) => f.sopInstanceUid === inst.sopInstanceUid)) {
        failed.push({
          sopInstanceUid: inst.sopInstanceUid,
          reason: `the server did not confirm it (status ${res.status})`,
        });
      }
    }
    return { stored, failed };
  }
}

function parseJsonArray(res: HttpResponse, where: string): DicomJson[] {
  const ct = String(res.headers['content-type'] ?? '');
  if (!/json/i.test(ct)) {
    throw new PacsError(
      'not-dicomweb',
      `${where}: the server answered ${ct || 'untyped content'}, not DICOM JSON: this URL is not a DICOMweb root.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new PacsError('not-dicomweb', `${where}: the answer is not valid JSON: this URL is not a DICOMweb root.`);
  }
  if (!Array.isArray(parsed))
    throw new PacsError(
      'not-dicomweb',
      `${where}: the answer is JSON but not a list of DICOM data sets: this URL is not a DICOMweb root.`,
    );
  return parsed as DicomJson[];
}
