/**
 * The only code that touches ipcMain: every method of the contract gets one handler that checks the
 * sender (our own window, loaded from our own files) and then goes through the validating dispatcher.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { channelOf, createDispatcher, EVENT_CHANNEL, fail, METHOD_NAMES, type Handlers } from '../../core/api/index';

export function isTrustedSender(event: IpcMainInvokeEvent, appUrlPrefix: string): boolean {
  const url = event.senderFrame?.url ?? '';
  return url.startsWith(appUrlPrefix);
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
