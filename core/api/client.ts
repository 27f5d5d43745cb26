import { METHOD_NAMES, type CvmApi, type EventName, type Events } from './contract';
import { fail, type Result } from './result';

/** What a preload provides: one request/response call and one event subscription. */
export interface Transport {
  invoke(method: string, request: unknown): Promise<unknown>;
  subscribe(handler: (name: string, payload: unknown) => void): () => void;
}

/** Builds the task-shaped API object from the contract table; the renderer never sees channels. */
export function createApiClient(transport: Transport): CvmApi {
  const api: Record<string, unknown> = {};
  for (const name of METHOD_NAMES) {
    // A broken connection becomes an error value like any other, so no caller can be left waiting on a
    // rejected promise (the save queue retries exactly these).
    api[name] = async (request: unknown): Promise<Result<unknown>> => {
      try {
        return (await transport.invoke(name, request)) as Result<unknown>;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return fail('transport', `The workstation service could not be reached (${reason}).`);
      }
    };
  }
  api.onEvent = <E extends EventName>(name: E, handler: (payload: Events[E]) => void) =>
    transport.subscribe((eventName, payload) => {
      if (eventName === name) handler(payload as Events[E]);
    });
  return api as CvmApi;
}
