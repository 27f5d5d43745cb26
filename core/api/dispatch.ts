/**
 * The one validating entry from a renderer into main, shared by Electron IPC and the browser-mode
 * WebSocket: unknown methods and malformed payloads are refused before any service runs, and a thrown
 * exception becomes an error value instead of a crash.
 */
import { methods, type MethodName, type RequestOf, type ResponseOf } from './contract';
import { fail, type Result } from './result';

export type Handlers = {
  readonly [K in MethodName]: (request: RequestOf<K>) => Promise<Result<ResponseOf<K>>>;
};

export type Dispatch = (method: string, request: unknown) => Promise<Result<unknown>>;

function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

export function createDispatcher(handlers: Handlers, log: (message: string) => void = () => {}): Dispatch {
  return async (method, request) => {
    if (!isMethodName(method)) return fail('invalid-request', `Unknown method "${method}".`);
    const problem = methods[method].request.check(request, method);
    if (problem) return fail('invalid-request', `Invalid request: ${problem}.`);
    const handler = handlers[method] as (req: unknown) => Promise<Result<unknown>>;
    try {
      return await handler(request);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${method} failed: ${message}`);
      return fail('internal', `${method} failed unexpectedly: ${message}`);
    }
  };
}
