/** Every renderer-facing method, composed from the services; the compiler checks none is missing. */
import { ok } from '../../core/api/index';
import type { Handlers } from '../../core/api/index';
import { analysisHandlers, landmarkSecondOpinion } from './analysis';
import { boneAgeHandlers } from './boneage';
import type { ServiceContext } from './context';
import { pacsHandlers, withAutoSend } from './pacs';
import { studyHandlers } from './studies';

export function createHandlers(ctx: ServiceContext): Handlers {
  const studies = studyHandlers(ctx);
  return {
    appInfo: async () =>
      ok({ version: ctx.appVersion, mode: ctx.mode === 'electron' ? 'electron' : 'web', dataDir: ctx.dataDir }),
    ...studies,
    ...analysisHandlers(ctx),
    ...pacsHandlers(ctx),
    setReviewStatus: withAutoSend(ctx, studies.setReviewStatus),
    ...boneAgeHandlers(ctx, landmarkSecondOpinion(ctx, 'as-stored').findsColumn),
  };
}
