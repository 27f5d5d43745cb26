/**
 * The only code that touches ipcMain: every method of the contract gets one handler that checks the
 * sender (our own window, loaded from our own files) and then goes through the validating dispatcher.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { channelOf, createDispatcher, EVENT_CHANNEL, fail, METHOD_NAMES, type Handlers } from '../../core/api/index';
import { isInsideAppUrl } from './sender';

export { isInsideAppUrl } from './sender';

/** The sender frame's page must lie inside the app's folder, compared by whole path segments. */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, appUrlPrefix: string): boolean {
  return isInsideAppUrl(event.senderFrame?.url ?? '', appUrlPrefix);
}

/** Registers one handler per contract method on `ipcMain` (Electron's, passed in by the shell). */
export function registerIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  handlers: Handlers,
  appUrlPrefix: string,
  log: (m: string) => void,
): () => void {
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
  return () => {
    for (const name of METHOD_NAMES) ipcMain.removeHandler(channelOf(name));
  };
}

export function sendEvent(target: WebContents, name: string, payload: unknown): void {
  if (!target.isDestroyed()) target.send(EVENT_CHANNEL, name, payload);
}
