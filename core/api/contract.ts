/**
 * The one contract between renderer and main. Each method has a request schema (validated by main for
 * every message) and a response type; the preload client and the main dispatcher are both derived from
 * this table, so a method is declared exactly once.
 */
import type { Result } from './result';
import { s, type Schema } from './schema';
import { openImageRequest, type OpenImageRequest, type OpenedImage } from './image';

export interface MethodSpec<Req, Res> {
  readonly request: Schema<Req>;
  readonly _response?: Res;
}

const method = <Req, Res>(request: Schema<Req>): MethodSpec<Req, Res> => ({ request });

export interface AppInfo {
  readonly version: string;
  readonly mode: 'electron' | 'web';
  readonly dataDir: string;
}

export const methods = {
  appInfo: method<Record<string, never>, AppInfo>(s.object({})),
  openImage: method<OpenImageRequest, OpenedImage>(openImageRequest),
};

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type RequestOf<K extends MethodName> = Methods[K] extends MethodSpec<infer Req, unknown> ? Req : never;
export type ResponseOf<K extends MethodName> = Methods[K] extends MethodSpec<unknown, infer Res> ? Res : never;

/** Pushed from main to the renderer. */
export interface Events {
  /** A message main wants the user to see (e.g. the inference worker restarted). */
  log: { level: 'info' | 'warn' | 'error'; message: string };
}
export type EventName = keyof Events;

export type CvmApi = {
  readonly [K in MethodName]: (request: RequestOf<K>) => Promise<Result<ResponseOf<K>>>;
} & {
  onEvent<E extends EventName>(name: E, handler: (payload: Events[E]) => void): () => void;
};

export const METHOD_NAMES = Object.keys(methods) as MethodName[];
export const channelOf = (name: MethodName): string => `cvm:${name}`;
export const EVENT_CHANNEL = 'cvm:event';
