/** Every renderer-facing method, composed from the services; the compiler checks none is missing. */
import { ok } from '../../core/api/index';
import type { Handlers } from '../../core/api/index';
import { analysisHandlers } from './analysis';
import type { ServiceContext } from './context';
import { studyHandlers } from './studies';

export function createHandlers(ctx: ServiceContext): Handlers {
  return {
    appInfo: async () => ok({ version: ctx.appVersion, mode: ctx.mode === 'electron' ? 'electron' : 'web', dataDir: ctx.dataDir }),
    ...studyHandlers(ctx),
    ...analysisHandlers(ctx),
  };
}
