/**
 * Browser mode under attack: every request of the probe in issue 16 against a real server on loopback,
 * then a few hundred seeded random frames, while a well-behaved client keeps getting answers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../core/api/wire';
import { createHandlers } from '../../main/services/handlers';
import { closeStudyStores } from '../../main/services/studies';
import { startWebServer, type RunningWebServer } from '../../main/web/server';
import { frame, prng, rawUpgrade } from './ws-raw';

const DEADLINE_MS = 600;
let server: RunningWebServer;
let good: WebSocket;
let nextId = 1;
const logs: string[] = [];
let dataDir: string;

function connectGood(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, { origin: `http://127.0.0.1:${server.port}` });
    ws.binaryType = 'arraybuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** One request from the well-behaved client; fails the test when not answered within `withinMs`. */
function ask(
  method: string,
  request: unknown = {},
  withinMs = 2000,
  ws = good,
): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`${method} not answered within ${withinMs} ms`));
    }, withinMs);
    const onMessage = (data: ArrayBuffer): void => {
      const m = decodeMessage(data) as { id?: number; result?: never };
      if (m.id !== id) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(m.result!);
    };
    ws.on('message', onMessage);
    ws.send(encodeMessage({ id, method, request }));
  });
}

async function stillServing(): Promise<void> {
  const reply = await ask('appInfo');
  expect(reply).toMatchObject({ ok: true, value: { mode: 'web' } });
}

beforeAll(async () => {
  const rendererDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-fuzz-renderer-'));
  writeFileSync(path.join(rendererDir, 'index.html'), '<html><head><!-- preload --></head></html>');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-fuzz-data-'));
  server = await startWebServer({
    port: 0,
    rendererDir,
    handlers: (emit) => createHandlers({ mode: 'web', dataDir, appVersion: 'fuzz', emit }),
    log: (m) => logs.push(m),
    limits: { messageDeadlineMs: DEADLINE_MS, idleMs: 5000 },
  });
  good = await connectGood();
  await stillServing();
});

afterAll(async () => {
  good?.terminate();
  await server?.close();
  closeStudyStores();
});

function rawHttp(request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
    socket.setTimeout(5000, () => socket.destroy());
  });
}

describe('HTTP requests that used to kill browser mode', () => {
  it('answers a malformed percent-encoding with 400 and keeps serving', async () => {
    const res = await fetch(`${server.url}%E0%A4%A`);
    expect(res.status).toBe(400);
    const res2 = await rawHttp(`GET /%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
    expect(res2).toMatch(/^HTTP\/1\.1 400/);
    await stillServing();
  });

  it('refuses a request for another host name (DNS rebinding) with 421', async () => {
    const res = await rawHttp(`GET / HTTP/1.1\r\nHost: evil.example:${server.port}\r\nConnection: close\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 421/);
    const ok = await fetch(server.url);
    expect(ok.status).toBe(200);
  });

  it('answers garbage instead of HTTP with 400, and methods other than GET with 405', async () => {
    expect(await rawHttp('\x00\x01\x02 nonsense\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    const post = await fetch(server.url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    await stillServing();
  });
});

describe('WebSocket handshakes', () => {
  it('refuses a foreign Host, a foreign Origin, no Origin and a wrong path', async () => {
    expect((await rawUpgrade(server.port, { Host: `evil.example:${server.port}` })).status).toBe(421);
    expect((await rawUpgrade(server.port, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await rawUpgrade(server.port, { Origin: '' })).status).toBe(403);
    expect((await rawUpgrade(server.port, {}, '/elsewhere')).status).toBe(404);
    expect((await rawUpgrade(server.port, { 'Sec-WebSocket-Version': '7' })).status).toBe(400);
    expect((await rawUpgrade(server.port, { 'Sec-WebSocket-Key': 'short' })).status).toBe(400);
    await stillServing();
  });
});

describe('connection bound', () => {
  it('refuses connections beyond the bound with 503 and accepts again once they close', async () => {
    const held = [];
    for (let i = 0; i < 7; i++) {
      const { status, conn } = await rawUpgrade(server.port);
      expect(status).toBe(101);
      held.push(conn);
    }
    expect((await rawUpgrade(server.port)).status).toBe(503);
    await stillServing();
    for (const c of held) c.socket.destroy();
    const start = performance.now();
    for (;;) {
      const { status, conn } = await rawUpgrade(server.port);
      conn.socket.destroy();
      if (status === 101) break;
      if (performance.now() - start > 3000) throw new Error('closed connections were not released');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});

describe('malformed frames from the probe each close only their own connection', () => {
  const cases: Array<[string, () => Buffer]> = [
    [
      'a payload length of 0x2bc0... (about 3 exabytes)',
      () => frame(new Uint8Array(4), { opcode: 2, declaredLength: 0x2bc0_0000_0000_0000n }),
    ],
    ['a message over the size limit', () => frame(new Uint8Array(4), { opcode: 2, declaredLength: 700 * 1024 * 1024 })],
    ['an unmasked frame', () => frame(new Uint8Array(8), { opcode: 2, masked: false })],
    ['RSV1 without an extension', () => frame(new Uint8Array(8), { opcode: 2, rsv: 4 })],
    ['reserved opcode 3', () => frame(new Uint8Array(8), { opcode: 3 })],
    ['a 126-byte ping', () => frame(new Uint8Array(126), { opcode: 9 })],
    ['close code 1005', () => frame(Buffer.from([0x03, 0xed]), { opcode: 8 })],
    ['invalid UTF-8 in a text frame', () => frame(Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), { opcode: 1 })],
    ['a fragmented ping', () => frame(new Uint8Array(4), { opcode: 9, fin: false })],
    ['a continuation frame with nothing to continue', () => frame(new Uint8Array(4), { opcode: 0 })],
    ['a text frame (the API is binary)', () => frame(Buffer.from('{"id":1}'), { opcode: 1 })],
    [
      'a binary message that is not the wire format',
      () => frame(Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]), { opcode: 2 }),
    ],
    [
      'an attachment of type "constructor"',
      () => {
        const header = '{"id":1,"method":"appInfo","request":{"x":{"$bin":0,"t":"constructor","offset":0,"length":1}}}';
        const body = Buffer.alloc(4 + header.length + 8);
        body.writeUInt32LE(header.length, 0);
        body.write(header, 4, 'latin1');
        return frame(body, { opcode: 2 });
      },
    ],
  ];
  for (const [name, make] of cases) {
    it(`${name}`, async () => {
      const { status, conn } = await rawUpgrade(server.port);
      expect(status).toBe(101);
      const sent = performance.now();
      conn.send(make());
      // The server fails the connection (TCP closed) or closes it with a close frame (opcode 8) and a code.
      while (!conn.socket.destroyed && conn.received()[0] !== 0x88) {
        if (performance.now() - sent > 3000)
          throw new Error('the connection was neither closed nor sent a close frame');
        await new Promise((r) => setTimeout(r, 10));
      }
      conn.socket.destroy();
      await stillServing();
    });
  }

  it('a frame that claims 200 MB and sends 1 KB is cut off after the message deadline', async () => {
    const { status, conn } = await rawUpgrade(server.port);
    expect(status).toBe(101);
    const start = performance.now();
    conn.send(frame(new Uint8Array(1024), { opcode: 2, declaredLength: 200 * 1024 * 1024 }).subarray(0, 14 + 1024));
    await conn.closed;
    const waited = performance.now() - start;
    expect(waited).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    expect(waited).toBeLessThan(DEADLINE_MS + 3000);
    await stillServing();
  });

  it('a connection that finished its messages is not cut off by the deadline', async () => {
    const ws = await connectGood();
    await ask('appInfo', {}, 2000, ws);
    await new Promise((r) => setTimeout(r, DEADLINE_MS * 2));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    await ask('appInfo', {}, 2000, ws);
    ws.close();
  });
});

describe('requests that pass the frame layer', () => {
  it('refuses "constructor", "__proto__" and "toString" as extra fields', async () => {
    for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const request = JSON.parse(`{"${key}": 1}`) as unknown;
      const reply = await ask('appInfo', request);
      expect(reply, key).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
      expect(reply.error!.message).toContain(key);
    }
    const reply = await ask('listStudies', JSON.parse('{"offset":0,"limit":10,"constructor":{}}'));
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('refuses a batch over the bound, and a bound-sized batch of unknown images does not block other requests', async () => {
    const tooMany = await ask('analyzeBatch', { imageIds: Array.from({ length: 10_001 }, (_, i) => i + 1) });
    expect(tooMany).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const events: string[] = [];
    const onEvent = (data: ArrayBuffer): void => {
      const m = decodeMessage(data) as { event?: string };
      if (m.event) events.push(m.event);
    };
    good.on('message', onEvent);
    const started = await ask(
      'analyzeBatch',
      { imageIds: Array.from({ length: 10_000 }, (_, i) => i + 1_000_000) },
      10_000,
    );
    expect(started).toMatchObject({ ok: true, value: { total: 10_000 } });
    // While the batch runs, other requests are answered quickly.
    const latencies: number[] = [];
    while (!events.includes('analysisBatchDone')) {
      const t = performance.now();
      await ask('appInfo', {}, 1000);
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
      if (latencies.length > 1000) throw new Error('the batch did not finish');
    }
    good.off('message', onEvent);
    latencies.sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length / 2)]!).toBeLessThan(200);
    // 10,000 items, coalesced: a handful of progress events rather than one per item.
    const progress = events.filter((e) => e === 'analysisBatchProgress').length;
    expect(progress).toBeGreaterThan(0);
    expect(progress).toBeLessThan(500);
  });
});

describe('fuzz', () => {
  it('survives a few hundred seeded random and mutated frames while serving a well-behaved client', async () => {
    const random = prng(16);
    const byte = (): number => Math.floor(random() * 256);
    const valid = Buffer.from(encodeMessage({ id: 7, method: 'listStudies', request: { offset: 0, limit: 5 } }));
    let frames = 0;
    for (let round = 0; round < 30; round++) {
      const { status, conn } = await rawUpgrade(server.port);
      expect(status).toBe(101);
      for (let k = 0; k < 10; k++) {
        const kind = random();
        let bytes: Buffer;
        if (kind < 0.3) {
          bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, byte));
        } else if (kind < 0.7) {
          const payload = Buffer.from(valid);
          for (let m = 0; m < 1 + Math.floor(random() * 6); m++)
            payload[Math.floor(random() * payload.length)] = byte();
          bytes = frame(payload, {
            opcode: random() < 0.8 ? 2 : Math.floor(random() * 16),
            fin: random() < 0.9,
            rsv: random() < 0.1 ? Math.floor(random() * 8) : 0,
          });
        } else {
          bytes = frame(valid, { opcode: 2 });
          bytes[Math.floor(random() * bytes.length)] = byte();
        }
        conn.send(bytes);
        frames++;
      }
      // Either the server closed the connection, or it is waiting for the rest of a declared frame.
      conn.socket.destroy();
      await stillServing();
    }
    expect(frames).toBe(300);
    expect(logs.some((l) => /protocol error|malformed|closed a connection/.test(l))).toBe(true);
  }, 60_000);
});
