import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../core/api/wire';
import { createHandlers } from '../../main/services/handlers';
import { startWebServer, type RunningWebServer } from '../../main/web/server';

let server: RunningWebServer;
let rendererDir: string;

beforeAll(async () => {
  rendererDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-renderer-'));
  writeFileSync(
    path.join(rendererDir, 'index.html'),
    '<html><head><meta http-equiv="Content-Security-Policy" content="x"><!-- preload --></head></html>',
  );
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-web-'));
  server = await startWebServer({
    port: 0,
    rendererDir,
    handlers: (emit) => createHandlers({ mode: 'web', dataDir, appVersion: 'test', emit }),
  });
});
afterAll(async () => {
  await server?.close();
});

function connect(origin: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, { origin });
    ws.binaryType = 'arraybuffer';
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('browser-mode server', () => {
  it('listens on the loopback interface only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('refuses an API connection from a page of another origin', async () => {
    await expect(connect('http://evil.example')).rejects.toThrow(/HTTP 401|HTTP 403/);
    await expect(connect(`http://127.0.0.1:${server.port + 1}`)).rejects.toThrow(/HTTP 40/);
  });

  it('answers the same API to its own pages, over binary frames', async () => {
    const ws = await connect(`http://127.0.0.1:${server.port}`);
    const reply = new Promise<unknown>((resolve) =>
      ws.once('message', (data) => resolve(decodeMessage(data as ArrayBuffer))),
    );
    ws.send(encodeMessage({ id: 1, method: 'appInfo', request: {} }));
    expect(await reply).toMatchObject({ id: 1, result: { ok: true, value: { version: 'test', mode: 'web' } } });
    ws.close();
  });

  it('serves index.html with the WebSocket preload and a CSP that allows only this server', async () => {
    const res = await fetch(server.url);
    const html = await res.text();
    expect(html).toContain('<script src="./preload-web.js"></script>');
    expect(html).not.toContain('http-equiv="Content-Security-Policy"');
    expect(res.headers.get('content-security-policy')).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('does not serve files outside the renderer folder', async () => {
    const res = await fetch(`${server.url}..%2F..%2Fetc%2Fpasswd`);
    expect([403, 404]).toContain(res.status);
  });
});
