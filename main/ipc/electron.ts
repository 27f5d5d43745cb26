/**
 * The only code that touches ipcMain: every method of the contract gets one handler that checks the
 * sender (our own window, loaded from our own files) and then goes through the validating dispatcher.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { channelOf, createDispatcher, EVENT_CHANNEL, fail, METHOD_NAMES, type Handlers } from '../../core/api/index';

/**
 * Our own window, loaded from our own files: the frame's URL must lie inside the renderer folder, compared
 * by whole path segments (`appUrlPrefix` ends with "/"), so a sibling folder such as `dist/renderer-evil`
 * does not pass.
 */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, appUrlPrefix: string): boolean {
  const url = event.senderFrame?.url ?? '';
  const prefix = appUrlPrefix.endsWith('/') ? appUrlPrefix : `${appUrlPrefix}/`;
  return url.startsWith(prefix) && !url.slice(prefix.length).split(/[?#]/)[0]!.split('/').includes('..');
}

/** Registers one handler per contract method on `ipcMain` (Electron's, passed in by the shell). */
export function registerIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, handlers: Handlers, appUrlPrefix: string,
  log: (m: string) => void): () => void {
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
