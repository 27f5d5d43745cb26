/**
 * Browser mode: serves the built renderer and the same API as the Electron app over a WebSocket, on the
 * loopback interface only. For development and for end-to-end tests in Chromium (Electron cannot run here).
 *
 * Hostile input (docs/security.md): any web page in the user's browser can send requests to this port and
 * any local process can write raw bytes to it. So: every HTTP request is answered inside a try (a malformed
 * URL is a 400, never a crash); the Host header must name this server (DNS rebinding) and the Origin must be
 * one of its own pages; the WebSocket library (`ws`) validates frames, bounds messages (`maxPayload`) and
 * reports protocol errors to an `error` listener on every socket; a connection that starts a message and
 * stalls, or stays silent, is closed; the number of connections and the bytes queued for a slow reader are
 * bounded; progress events are coalesced.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FILE_BYTES } from '../../core/api/image';
import { decodeMessage, encodeMessage } from '../../core/api/wire';
import { createDispatcher, type Dispatch, type Handlers } from '../../core/api/index';

export interface WebServerOptions {
  readonly port: number; // 0 = any free port
  readonly rendererDir: string; // dist/renderer
  readonly handlers: (emit: (name: string, payload: unknown) => void) => Handlers;
  readonly log?: (message: string) => void;
  /** Overrides of the limits below (tests use short timeouts). */
  readonly limits?: Partial<WebLimits>;
}

export interface WebLimits {
  /** Largest WebSocket message: one imported file plus its envelope. */
  readonly maxMessageBytes: number;
  /**
   * A message that has started arriving must be complete within this time (a frame that claims 200 MB and sends 1 KB).
   */
  readonly messageDeadlineMs: number;
  /**
   * A connection that sends nothing for this long is closed (the server pings three times within it; browsers answer).
   */
  readonly idleMs: number;
  /** Simultaneous API connections (a page opens one). */
  readonly maxConnections: number;
  /** Bytes queued for a client that does not read; beyond, it is disconnected rather than growing memory. */
  readonly maxBufferedBytes: number;
  /** Requests dispatched but not answered, per connection. */
  readonly maxInFlight: number;
  /** Progress events are sent at most this often (the latest wins). */
  readonly eventIntervalMs: number;
}

export const DEFAULT_WEB_LIMITS: WebLimits = {
  maxMessageBytes: MAX_FILE_BYTES + 1024 * 1024,
  messageDeadlineMs: 60_000,
  idleMs: 3 * 60_000,
  maxConnections: 8,
  maxBufferedBytes: 256 * 1024 * 1024,
  maxInFlight: 64,
  eventIntervalMs: 100,
};

/** Events whose latest value is all a client needs: sent coalesced. */
const COALESCED_EVENTS = new Set(['importProgress', 'analysisBatchProgress']);

export interface RunningWebServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ws://${HOST}:${port} ws://localhost:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Only pages served by this server may open the API socket: a page from any other origin is refused. */
export function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  return origin === `http://${HOST}:${port}` || origin === `http://localhost:${port}`;
}

/**
 * The Host header must name this server. A page on evil.example whose DNS name is re-pointed at 127.0.0.1
 * (DNS rebinding) is same-origin with itself, not with us, and sends `Host: evil.example:<port>`.
 */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  return host === `${HOST}:${port}` || host === `localhost:${port}`;
}

export class BadRequest extends Error {}

/**
 * The file a request path names inside `rendererDir`, or null when it lies outside. Throws BadRequest on a malformed
 * path.
 */
export function staticFileFor(rendererDir: string, rawUrl: string): { file: string; relative: string } | null {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(rawUrl, `http://${HOST}`).pathname);
  } catch {
    throw new BadRequest('malformed URL');
  }
  if (pathname.includes('\0')) throw new BadRequest('malformed URL');
  const relative = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, relative);
  if (!file.startsWith(root + path.sep)) return null;
  return { file, relative };
}

async function serveStatic(
  rendererDir: string,
  port: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!isAllowedHost(req.headers.host, port)) {
    res
      .writeHead(421, { 'Content-Type': 'text/plain' })
      .end('misdirected request: this server answers only to 127.0.0.1 and localhost');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed');
    return;
  }
  let target: ReturnType<typeof staticFileFor>;
  try {
    target = staticFileFor(rendererDir, req.url ?? '/');
  } catch (error) {
    if (error instanceof BadRequest) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request: malformed URL');
      return;
    }
    throw error;
  }
  if (!target) {
    res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden');
    return;
  }
  const { file, relative } = target;
  let body: Buffer | string;
  try {
    body = await readFile(file);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    return;
  }
  if (relative === 'index.html') {
    // The browser has no Electron preload: load the WebSocket one before the renderer.
    body = body
      .toString('utf8')
      .replace('<!-- preload -->', '<script src="./preload-web.js"></script>')
      .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Security-Policy': contentSecurityPolicy(port),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function toArrayBuffer(data: Buffer | ArrayBuffer | Buffer[]): ArrayBuffer {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  // A fresh, 8-aligned copy so typed-array attachments can be viewed in place.
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function sendOrDrop(socket: WebSocket, frame: ArrayBuffer, limits: WebLimits, log: (m: string) => void): void {
  if (socket.readyState !== socket.OPEN) return;
  if (socket.bufferedAmount > limits.maxBufferedBytes) {
    log(`a client reads too slowly (${socket.bufferedAmount} bytes queued); disconnecting it`);
    socket.terminate();
    return;
  }
  socket.send(frame, (error) => {
    if (error) log(`send failed: ${error.message}`);
  });
}

interface ReceiverState {
  _state?: unknown;
  _bufferedBytes?: unknown;
  _fragmented?: unknown;
}

/**
 * Whether ws's frame parser holds part of a frame or of a fragmented message. Reads the parser's state
 * (ws is pinned to an exact version; test/security/websocket-fuzz.test.ts fails if these fields change);
 * when they are not there, any data counts as a message in progress, which only shortens the wait.
 */
export function messageInProgress(socket: WebSocket): boolean {
  const receiver = (socket as unknown as { _receiver?: ReceiverState })._receiver;
  if (
    !receiver ||
    typeof receiver._state !== 'number' ||
    typeof receiver._bufferedBytes !== 'number' ||
    typeof receiver._fragmented !== 'number'
  )
    return true;
  const GET_INFO = 0;
  const DEFER_EVENT = 6;
  if (receiver._fragmented !== 0) return true;
  if (receiver._state === GET_INFO) return receiver._bufferedBytes > 0;
  return receiver._state !== DEFER_EVENT;
}

function handleSocket(
  socket: WebSocket,
  raw: Duplex,
  dispatch: Dispatch,
  limits: WebLimits,
  log: (m: string) => void,
): void {
  // Without this listener a malformed frame (bad opcode, RSV bits, unmasked, oversized, invalid UTF-8,
  // fragmented control frame...) is an unhandled 'error' event and kills the process. ws has already
  // failed the connection with the right close code when this runs.
  socket.on('error', (error) => log(`closed a connection after a protocol error: ${error.message}`));

  // A message that has begun must end in time; a silent connection is closed. After each chunk has been
  // parsed (ws's own 'data' listener runs first), the receiver says whether a frame or a fragmented
  // message is still incomplete; only then does the deadline run.
  let deadline: NodeJS.Timeout | null = null;
  const clearDeadline = (): void => {
    if (deadline) clearTimeout(deadline);
    deadline = null;
  };
  raw.on('data', () => {
    if (!messageInProgress(socket)) {
      clearDeadline();
      return;
    }
    deadline ??= setTimeout(() => {
      log(`a message did not complete within ${limits.messageDeadlineMs} ms; disconnecting`);
      socket.terminate();
    }, limits.messageDeadlineMs);
  });
  // Browsers answer pings by themselves, so a live page is never idle; a peer that answers nothing is.
  (raw as Socket).setTimeout(limits.idleMs, () => {
    log('closing an idle connection');
    socket.terminate();
  });
  const pinger = setInterval(
    () => {
      if (socket.readyState === socket.OPEN) socket.ping();
    },
    Math.max(1000, limits.idleMs / 3),
  );
  pinger.unref();
  socket.on('close', () => {
    clearDeadline();
    clearInterval(pinger);
  });

  let inFlight = 0;
  socket.on('message', (data, isBinary) => {
    if (!isBinary) {
      socket.close(1003, 'binary frames only');
      return;
    }
    let message: unknown;
    try {
      message = decodeMessage(toArrayBuffer(data as Buffer));
    } catch {
      socket.close(1007, 'malformed message');
      return;
    }
    const { id, method, request } = (message ?? {}) as { id?: unknown; method?: unknown; request?: unknown };
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || typeof method !== 'string' || method.length > 100) {
      socket.close(1007, 'malformed message');
      return;
    }
    if (inFlight >= limits.maxInFlight) {
      socket.close(1008, 'too many requests in flight');
      return;
    }
    inFlight++;
    void dispatch(method, request).then(
      (result) => {
        inFlight--;
        let frame: ArrayBuffer;
        try {
          frame = encodeMessage({ id, result });
        } catch (error) {
          log(`${method}: the reply cannot be encoded (${String(error)})`);
          frame = encodeMessage({
            id,
            result: { ok: false, error: { code: 'internal', message: `${method}: the reply cannot be sent` } },
          });
        }
        sendOrDrop(socket, frame, limits, log);
      },
      (error: unknown) => {
        inFlight--;
        log(`dispatch failed: ${String(error)}`);
      },
    );
  });
}

/** Latest-wins queue for progress events; any other event first flushes what is queued, so order is kept. */
function coalescingEmitter(
  send: (name: string, payload: unknown) => void,
  intervalMs: number,
): { emit: (name: string, payload: unknown) => void; stop: () => void } {
  const queued = new Map<string, unknown>();
  let timer: NodeJS.Timeout | null = null;
  let lastFlush = 0;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    lastFlush = Date.now();
    const events = [...queued];
    queued.clear();
    for (const [name, payload] of events) send(name, payload);
  };
  return {
    emit(name, payload) {
      if (!COALESCED_EVENTS.has(name)) {
        if (queued.size > 0) flush();
        send(name, payload);
        return;
      }
      queued.set(name, payload);
      const wait = lastFlush + intervalMs - Date.now();
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      queued.clear();
    },
  };
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable)
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`,
    );
  socket.destroy();
}

export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const log = options.log ?? (() => {});
  const limits: WebLimits = { ...DEFAULT_WEB_LIMITS, ...options.limits };
  const sockets = new Set<WebSocket>();
  const events = coalescingEmitter((name, payload) => {
    let frame: ArrayBuffer;
    try {
      frame = encodeMessage({ event: name, payload });
    } catch (error) {
      log(`event ${name} cannot be encoded: ${String(error)}`);
      return;
    }
    for (const s of sockets) sendOrDrop(s, frame, limits, log);
  }, limits.eventIntervalMs);
  const dispatch = createDispatcher(options.handlers(events.emit), log);
  let port = options.port;
  const server: Server = createServer((req, res) => {
    serveStatic(options.rendererDir, port, req, res).catch((error: unknown) => {
      log(`HTTP ${req.method ?? '?'} failed: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('internal error');
    });
  });
  // Slow HTTP senders (headers or bodies dripping in) are cut off.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('clientError', (error, socket) => {
    log(`malformed HTTP request: ${error.message}`);
    refuseUpgrade(socket, 400, 'Bad Request');
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });
  wss.on('error', (error) => log(`WebSocket server error: ${error.message}`));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => log(`connection error during the handshake: ${error.message}`));
    try {
      let pathname: string;
      try {
        pathname = new URL(req.url ?? '/', `http://${HOST}`).pathname;
      } catch {
        pathname = '';
      }
      if (pathname !== '/api') return refuseUpgrade(socket, 404, 'Not Found');
      if (!isAllowedHost(req.headers.host, port)) {
        log(`refused a WebSocket for host ${req.headers.host ?? '(none)'}`);
        return refuseUpgrade(socket, 421, 'Misdirected Request');
      }
      if (!isAllowedOrigin(req.headers.origin, port)) {
        log(`refused a WebSocket from origin ${req.headers.origin || '(none)'}`);
        return refuseUpgrade(socket, 403, 'Forbidden');
      }
      if (sockets.size >= limits.maxConnections) {
        log(`refused a WebSocket: ${sockets.size} connections already open`);
        return refuseUpgrade(socket, 503, 'Service Unavailable');
      }
      // ws validates the rest of the handshake (method, version, key) and answers 400 itself.
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        handleSocket(ws, socket, dispatch, limits, log);
      });
    } catch (error) {
      log(`WebSocket handshake failed: ${String(error)}`);
      refuseUpgrade(socket, 400, 'Bad Request');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, HOST, () => resolve());
  });
  server.on('error', (error) => log(`server error: ${error.message}`));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  port = address.port;
  return {
    url: `http://${HOST}:${port}/`,
    port,
    close: async () => {
      events.stop();
      for (const s of sockets) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
