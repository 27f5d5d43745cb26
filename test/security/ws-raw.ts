/** A raw TCP WebSocket client for hostile tests: it sends whatever bytes it is given, valid or not. */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface RawConnection {
  readonly socket: net.Socket;
  /** Everything received after the handshake response. */
  received(): Buffer;
  /** Resolves when the server closes or resets the connection, with the ms it took. */
  readonly closed: Promise<number>;
  send(bytes: Uint8Array): void;
}

/** Opens a TCP connection and performs the HTTP upgrade; resolves with the status line and the connection. */
export function rawUpgrade(
  port: number,
  headers: Record<string, string> = {},
  pathName = '/api',
): Promise<{ status: number; conn: RawConnection }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const start = performance.now();
    let buffer = Buffer.alloc(0);
    let headerDone = false;
    let after = Buffer.alloc(0);
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now() - start)));
    socket.on('error', () => undefined);
    const conn: RawConnection = {
      socket,
      received: () => after,
      closed,
      send: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
    };
    socket.on('data', (chunk) => {
      if (headerDone) {
        after = Buffer.concat([after, chunk]);
        return;
      }
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      headerDone = true;
      after = buffer.subarray(end + 4);
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(buffer.toString('latin1'))?.[1] ?? 0);
      resolve({ status, conn });
    });
    socket.once('close', () => {
      if (!headerDone) resolve({ status: 0, conn });
    });
    socket.once('connect', () => {
      const all: Record<string, string> = {
        Host: `127.0.0.1:${port}`,
        Upgrade: 'websocket',
        Connection: 'Upgrade',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13',
        Origin: `http://127.0.0.1:${port}`,
        ...headers,
      };
      const lines = [
        `GET ${pathName} HTTP/1.1`,
        ...Object.entries(all)
          .filter(([, v]) => v !== '')
          .map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error('no handshake answer within 10 s'));
    });
  });
}

export interface FrameOptions {
  readonly fin?: boolean;
  readonly rsv?: number; // 0..7 -> bits RSV1..RSV3
  readonly opcode: number;
  readonly masked?: boolean;
  /** Length to declare instead of the payload's real length. */
  readonly declaredLength?: bigint | number;
}

/** One WebSocket frame as a client would send it (masked unless told otherwise). */
export function frame(payload: Uint8Array, options: FrameOptions): Buffer {
  const fin = options.fin ?? true;
  const masked = options.masked ?? true;
  const length = BigInt(options.declaredLength ?? payload.length);
  const head: number[] = [(fin ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (options.opcode & 0x0f)];
  const maskBit = masked ? 0x80 : 0;
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) head.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  else {
    head.push(maskBit | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((length >> BigInt(i * 8)) & 0xffn));
  }
  const mask = masked ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([Buffer.from(head), mask, body]);
}

/** A small deterministic generator, so a failing fuzz case can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
