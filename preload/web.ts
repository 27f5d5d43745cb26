/**
 * Browser-mode preload: the same API object as the Electron preload, carried over a WebSocket to the
 * loopback server that served this page. Loaded as a classic script before the renderer.
 */
import { createApiClient, type CvmApi, type Transport } from '../core/api/index';
import { decodeMessage, encodeMessage } from '../core/api/wire';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

function createWebSocketTransport(url: string): Transport {
  const pending = new Map<number, Pending>();
  const listeners = new Set<(name: string, payload: unknown) => void>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let opened: Promise<WebSocket> | null = null;

  const connect = (): Promise<WebSocket> => {
    if (opened) return opened;
    opened = new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        socket = ws;
        resolve(ws);
      };
      ws.onerror = () => reject(new Error(`cannot reach the workstation service at ${url}`));
      ws.onclose = () => {
        socket = null;
        opened = null;
        for (const p of pending.values()) p.reject(new Error('the connection to the workstation service closed'));
        pending.clear();
      };
      ws.onmessage = (event: MessageEvent<ArrayBuffer>) => {
        const message = decodeMessage(event.data) as {
          id?: number;
          result?: unknown;
          event?: string;
          payload?: unknown;
        };
        if (typeof message.id === 'number') {
          pending.get(message.id)?.resolve(message.result);
          pending.delete(message.id);
        } else if (typeof message.event === 'string') {
          for (const l of listeners) l(message.event, message.payload);
        }
      };
    });
    return opened;
  };

  return {
    async invoke(method, request) {
      const ws = socket ?? (await connect());
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(encodeMessage({ id, method, request }));
      });
    },
    subscribe(handler) {
      listeners.add(handler);
      void connect();
      return () => listeners.delete(handler);
    },
  };
}

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`;
(window as unknown as { cvm: CvmApi }).cvm = createApiClient(createWebSocketTransport(wsUrl));
