/**
 * Browser mode: serves the built renderer and the same API as the Electron app over a WebSocket, on the
 * loopback interface only. For development and for end-to-end tests in Chromium (Electron cannot run here).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeMessage, encodeMessage } from '../../core/api/wire';
import { createDispatcher, type Dispatch, type Handlers } from '../../core/api/index';

export interface WebServerOptions {
  readonly port: number; // 0 = any free port
  readonly rendererDir: string; // dist/renderer
  readonly handlers: (emit: (name: string, payload: unknown) => void) => Handlers;
  readonly log?: (message: string) => void;
}

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

async function serveStatic(rendererDir: string, port: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${HOST}`);
  const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
  const file = path.resolve(rendererDir, relative);
  if (!file.startsWith(path.resolve(rendererDir) + path.sep)) {
    res.writeHead(403).end('forbidden');
    return;
  }
  try {
    let body: Buffer | string = await readFile(file);
    if (relative === 'index.html') {
      // The browser has no Electron preload: load the WebSocket one before the renderer.
      body = body.toString('utf8').replace('<!-- preload -->', '<script src="./preload-web.js"></script>')
        .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
    }
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': contentSecurityPolicy(port),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    });
    res.end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
}

function toArrayBuffer(data: Buffer | ArrayBuffer | Buffer[]): ArrayBuffer {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  // A fresh, 8-aligned copy so typed-array attachments can be viewed in place.
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function handleSocket(socket: WebSocket, dispatch: Dispatch, log: (m: string) => void): void {
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
    if (typeof id !== 'number' || typeof method !== 'string') {
      socket.close(1007, 'malformed message');
      return;
    }
    void dispatch(method, request).then((result) => {
      if (socket.readyState === socket.OPEN) socket.send(encodeMessage({ id, result }));
    }, (error: unknown) => log(`dispatch failed: ${String(error)}`));
  });
}

export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const log = options.log ?? (() => {});
  const sockets = new Set<WebSocket>();
  const emit = (name: string, payload: unknown): void => {
    const frame = encodeMessage({ event: name, payload });
    for (const s of sockets) if (s.readyState === s.OPEN) s.send(frame);
  };
  const dispatch = createDispatcher(options.handlers(emit), log);
  let port = options.port;
  const server: Server = createServer((req, res) => void serveStatic(options.rendererDir, port, req, res));
  const wss = new WebSocketServer({
    server,
    path: '/api',
    maxPayload: 600 * 1024 * 1024,
    verifyClient: (info: { origin: string; req: IncomingMessage }) => {
      const allowed = isAllowedOrigin(info.origin, port);
      if (!allowed) log(`refused a WebSocket from origin ${info.origin || '(none)'}`);
      return allowed;
    },
  });
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    handleSocket(socket, dispatch, log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, HOST, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  port = address.port;
  return {
    url: `http://${HOST}:${port}/`,
    port,
    close: async () => {
      for (const s of sockets) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
