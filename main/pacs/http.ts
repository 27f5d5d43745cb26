/**
 * HTTP(S) for DICOMweb on Node's own http/https: basic auth or a bearer token, TLS with the system's
 * certificates or a given CA file, a timeout, cancel through an AbortSignal, and every failure turned into
 * a PacsError whose kind says what went wrong (unreachable, refused, unauthorized, forbidden, tls...).
 * Secrets never appear in errors or logs: messages name the URL without credentials.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

export type PacsErrorKind =
  | 'invalid-settings'
  | 'unreachable'
  | 'refused'
  | 'timeout'
  | 'tls'
  | 'unauthorized'
  | 'forbidden'
  | 'not-dicomweb'
  | 'not-found'
  | 'server'
  | 'cancelled'
  | 'too-large';

export class PacsError extends Error {
  constructor(
    readonly kind: PacsErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PacsError';
  }
}

export type PacsAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

export interface PacsConnection {
  /** The DICOMweb root, e.g. https://pacs.clinic.local/dicom-web */
  readonly url: string;
  readonly auth: PacsAuth;
  /** A PEM file of CA certificates to trust in addition to the system's. */
  readonly caFile?: string | null;
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | readonly Buffer[];
  readonly signal?: AbortSignal;
  /** Refuse bodies larger than this (default 1 GiB). */
  readonly maxBytes?: number;
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** The URL as it may be shown: no user name or password. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

export function parseBaseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new PacsError(
      'invalid-settings',
      `"${url}" is not a URL; give the DICOMweb root, e.g. https://pacs.example.org/dicom-web`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new PacsError('invalid-settings', `The DICOMweb URL must start with http:// or https:// (got ${u.protocol})`);
  }
  if (u.username || u.password) {
    throw new PacsError(
      'invalid-settings',
      'Put the user name and password in the connection settings, not in the URL.',
    );
  }
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

const caCache = new Map<string, string[]>();

function caOf(file: string): string[] {
  let ca = caCache.get(file);
  if (!ca) {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new PacsError('invalid-settings', `The CA file ${file} cannot be read: ${(error as Error).message}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new PacsError('invalid-settings', `The CA file ${file} holds no PEM certificate.`);
    ca = [...tls.rootCertificates, pem];
    caCache.set(file, ca);
  }
  return ca;
}

export function authHeader(auth: PacsAuth): string | null {
  if (auth.kind === 'basic') return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  if (auth.kind === 'bearer') return `Bearer ${auth.token}`;
  return null;
}

function classify(error: NodeJS.ErrnoException, where: string): PacsError {
  const code = error.code ?? '';
  if (error.name === 'AbortError' || code === 'ABORT_ERR') return new PacsError('cancelled', `Cancelled: ${where}.`);
  if (code === 'ECONNREFUSED')
    return new PacsError(
      'refused',
      `${where} refused the connection: nothing listens on that port (is the server running?).`,
    );
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return new PacsError('unreachable', `${where} closed the connection unexpectedly (${code}).`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new PacsError('unreachable', `${where}: the host name does not resolve (${code}).`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN')
    return new PacsError('unreachable', `${where} is unreachable (${code}).`);
  if (code === 'ETIMEDOUT') return new PacsError('timeout', `${where} did not answer in time.`);
  if (
    TLS_CODES.has(code) ||
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    /certificate|SSL|TLS/i.test(error.message)
  ) {
    return new PacsError(
      'tls',
      `${where}: the TLS connection failed (${code || error.message}); check the server certificate or give its CA file.`,
    );
  }
  return new PacsError('unreachable', `${where}: ${error.message}`);
}

/** One request; resolves with the whole body, or rejects with a PacsError. Does not interpret the status. */
export function request(conn: PacsConnection, target: URL, options: RequestOptions = {}): Promise<HttpResponse> {
  const where = `${options.method ?? 'GET'} ${displayUrl(target.toString())}`;
  const headers: Record<string, string> = { ...options.headers };
  const auth = authHeader(conn.auth);
  if (auth) headers.authorization = auth;
  const body =
    options.body === undefined
      ? undefined
      : Array.isArray(options.body)
        ? (options.body as readonly Buffer[])
        : [options.body as Buffer];
  if (body) headers['content-length'] = String(body.reduce((n, b) => n + b.length, 0));
  const maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
  const isHttps = target.protocol === 'https:';
  const ca = isHttps && conn.caFile ? caOf(conn.caFile) : undefined;
  return new Promise<HttpResponse>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new PacsError('cancelled', `Cancelled: ${where}.`));
      return;
    }
    const lib = isHttps ? https : http;
    const req = lib.request(
      target,
      {
        method: options.method ?? 'GET',
        headers,
        signal: options.signal,
        timeout: conn.timeoutMs ?? 30_000,
        ...(ca ? { ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new PacsError('too-large', `${where}: the answer is larger than ${maxBytes} bytes.`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (!res.complete) {
            reject(
              new PacsError(
                'unreachable',
                `${where}: the server closed the connection before the answer was complete.`,
              ),
            );
            return;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('aborted', () =>
          reject(
            new PacsError('unreachable', `${where}: the server closed the connection before the answer was complete.`),
          ),
        );
        res.on('error', (error) =>
          reject(error instanceof PacsError ? error : classify(error as NodeJS.ErrnoException, where)),
        );
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (error) =>
      reject(error instanceof PacsError ? error : classify(error as NodeJS.ErrnoException, where)),
    );
    if (body) for (const b of body) req.write(b);
    req.end();
  });
}

/** Turns an HTTP status that is not a success into a PacsError. */
export function statusError(res: HttpResponse, where: string): PacsError {
  const s = res.status;
  const text = res.body.subarray(0, 300).toString('utf8').replace(/\s+/g, ' ').trim();
  if (s === 401)
    return new PacsError('unauthorized', `${where}: 401 Unauthorized: the server did not accept the credentials.`, s);
  if (s === 403)
    return new PacsError('forbidden', `${where}: 403 Forbidden: the credentials are valid but may not do this.`, s);
  if (s === 404) return new PacsError('not-found', `${where}: 404 Not Found.`, s);
  if (s >= 500) return new PacsError('server', `${where}: the server failed (${s})${text ? `: ${text}` : ''}.`, s);
  return new PacsError('server', `${where}: unexpected answer ${s}${text ? `: ${text}` : ''}.`, s);
}
