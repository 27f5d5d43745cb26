/** Every renderer-facing method, composed from the services; the compiler checks none is missing. */
import { ok } from '../../core/api/index';
import type { Handlers } from '../ipc/dispatch';
import type { ServiceContext } from './context';
import { openImage } from './images';

export function createHandlers(ctx: ServiceContext): Handlers {
  return {
    appInfo: async () => ok({ version: ctx.appVersion, mode: ctx.mode === 'electron' ? 'electron' : 'web', dataDir: ctx.dataDir }),
    openImage,
  };
}
