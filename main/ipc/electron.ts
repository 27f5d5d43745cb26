/**
 * The only code that touches ipcMain: every method of the contract gets one handler that checks the
 * sender (our own window, loaded from our own files) and then goes through the validating dispatcher.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { channelOf, EVENT_CHANNEL, fail, METHOD_NAMES } from '../../core/api/index';
import { createDispatcher, type Handlers } from './dispatch';
import { isInsideAppUrl } from './sender';

export { isInsideAppUrl } from './sender';

/** The sender frame's page must lie inside the app's folder, compared by whole path segments. */
export function isTrustedSender(event: IpcMainInvokeEvent, appUrlPrefix: string): boolean {
  return isInsideAppUrl(event.senderFrame?.url ?? '', appUrlPrefix);
}

export function registerIpc(handlers: Handlers, appUrlPrefix: string, log: (m: string) => void): () => void {
  const dispatch = createDispatcher(handlers, log);
  for (const name of METHOD_NAMES) {
    ipcMain.handle(channelOf(name), async (event, request: unknown) => {
      if (!isTrustedSender(event, appUrlPrefix)) {
        log(`refused ${name} from ${event.senderFrame?.url ?? 'an unknown frame'}`);
        return fail('invalid-request', 'Request refused: it did not come from the workstation window.');
      }
      return dispatch(name, request);
    });
  }
  return () => { for (const name of METHOD_NAMES) ipcMain.removeHandler(channelOf(name)); };
}

export function sendEvent(target: WebContents, name: string, payload: unknown): void {
  if (!target.isDestroyed()) target.send(EVENT_CHANNEL, name, payload);
}
