/**
 * The Electron shell, written against the part of Electron's API it uses (passed in, so that start-up and
 * shutdown can be exercised under plain Node with a typed stand-in: test/app/shell.test.ts). One window,
 * locked down: context isolation, sandbox, no Node in the renderer, strict CSP, no navigation, no new
 * windows, no remote content, every permission denied. Everything else lives in services.
 */
import type {
  App,
  BrowserWindow,
  BrowserWindowConstructorOptions,
  Dialog,
  IpcMain,
  SafeStorage,
  Session,
  WebContents,
} from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHandlers } from '../services/handlers';
import { ensureDataDir } from '../services/data-dir';
import { openDataFolder, shutDown, warmUp } from '../services/lifecycle';
import { isInsideAppUrl, registerIpc, sendEvent } from '../ipc/electron';
import { setSecretProtector } from '../pacs/settings';

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What the shell needs from Electron: the real module in the app, a recording stand-in in tests. */
export interface ElectronSurface {
  readonly app: Pick<App, 'enableSandbox' | 'on' | 'whenReady' | 'getPath' | 'getVersion' | 'quit' | 'isPackaged'>;
  readonly BrowserWindow: new (
    options: BrowserWindowConstructorOptions,
  ) => Pick<BrowserWindow, 'on' | 'loadFile' | 'webContents'>;
  readonly session: { readonly defaultSession: Pick<Session, 'webRequest' | 'setPermissionRequestHandler'> };
  readonly ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  readonly dialog: Pick<Dialog, 'showErrorBox'>;
  /** The OS keychain for the PACS password or token (only its ciphertext is stored). */
  readonly safeStorage?: Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'>;
}

export interface ShellPaths {
  /** dist/app: where preload.cjs sits. */
  readonly appDir: string;
  /** dist/renderer/index.html. */
  readonly rendererIndex: string;
  /** Where the models are when packaged (extra resources beside app.asar). */
  readonly resourcesPath?: string;
}

export function windowOptions(appDir: string): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 700,
    backgroundColor: '#111418',
    title: 'CVM Workstation',
    webPreferences: {
      preload: path.join(appDir, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  };
}

/** Wires the app's lifecycle; resolves when the window is open and the IPC handlers are registered. */
export async function startShell(electron: ElectronSurface, paths: ShellPaths): Promise<void> {
  const { app } = electron;
  const rendererDir = path.dirname(paths.rendererIndex);
  const appUrlPrefix = pathToFileURL(rendererDir).href;
  if (app.isPackaged && paths.resourcesPath) process.env.CVM_MODELS_DIR ??= path.join(paths.resourcesPath, 'models');

  app.enableSandbox();
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  app.on('window-all-closed', () => app.quit());
  let stopped = false;
  app.on('will-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    void shutDown().finally(() => {
      stopped = true;
      app.quit();
    });
  });

  await app.whenReady();
  const { defaultSession } = electron.session;
  // Block every request that is not one of our own files: no remote content, ever.
  defaultSession.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !(isInsideAppUrl(details.url, appUrlPrefix) || details.url.startsWith('devtools://')) });
  });
  defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  const keychain = electron.safeStorage;
  if (keychain) {
    setSecretProtector({
      name: 'Electron safeStorage',
      available: () => keychain.isEncryptionAvailable(),
      encrypt: (plain) => keychain.encryptString(plain),
      decrypt: (cipher) => keychain.decryptString(cipher),
    });
  }
  const dataDir = ensureDataDir(app.getPath('userData'));
  const ctx = {
    mode: 'electron' as const,
    dataDir,
    appVersion: app.getVersion(),
    emit: (name: string, payload: unknown) => emit(name, payload),
  };
  // Take the data-folder lock now, so a second copy of the app or a writing CLI command is refused at once.
  const opened = openDataFolder(ctx);
  if (!opened.ok) {
    electron.dialog.showErrorBox('CVM Workstation cannot open its data folder', opened.error.message);
    app.quit();
    return;
  }

  let win: Pick<BrowserWindow, 'on' | 'loadFile' | 'webContents'> | null = new electron.BrowserWindow(
    windowOptions(paths.appDir),
  );
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.on('closed', () => {
    win = null;
  });
  const emit = (name: string, payload: unknown): void => {
    if (win) sendEvent(win.webContents, name, payload);
  };
  warmUp(ctx, (m) => console.warn(`[models] ${m}`));
  registerIpc(electron.ipcMain, createHandlers(ctx), appUrlPrefix, (m) => console.error(`[ipc] ${m}`));
  await win.loadFile(paths.rendererIndex);
}
