/** Browser mode as one call: lock the data folder, then serve. Used by `npm run web` and by tests. */
import { createHandlers } from '../services/handlers';
import { shutDown, warmUp } from '../services/lifecycle';
import { storeFor } from '../services/studies';
import { startWebServer, type RunningWebServer } from './server';

export interface BrowserModeOptions {
  readonly port: number;
  readonly dataDir: string;
  readonly rendererDir: string;
  readonly appVersion: string;
  /** Load the default model ahead of the first analysis (off in tests). */
  readonly warm?: boolean;
  readonly log?: (message: string) => void;
}

/**
 * Takes the data-folder lock before listening (not on the first request, which let a CLI writer in
 * meanwhile); throws the store's "in use" error when another process holds it. `close` also releases it.
 */
export async function startBrowserMode(options: BrowserModeOptions): Promise<RunningWebServer> {
  storeFor({ dataDir: options.dataDir, mode: 'web' });
  try {
    const server = await startWebServer({
      port: options.port,
      rendererDir: options.rendererDir,
      handlers: (emit) => {
        const ctx = { mode: 'web' as const, dataDir: options.dataDir, appVersion: options.appVersion, emit };
        if (options.warm ?? true) warmUp(ctx, options.log);
        return createHandlers(ctx);
      },
      log: options.log,
    });
    return { ...server, close: () => server.close().then(shutDown) };
  } catch (error) {
    await shutDown();
    throw error;
  }
}
