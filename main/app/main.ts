/**
 * Electron entry: one window, locked down (context isolation, sandbox, no Node in the renderer, strict
 * CSP, no navigation, no new windows, no remote content). Everything else lives in services.
 */
import { app, BrowserWindow, safeStorage, session } from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHandlers } from '../services/handlers';
import { ensureDataDir } from '../services/data-dir';
import { shutDown, warmUp } from '../services/lifecycle';
import { registerIpc, sendEvent } from '../ipc/electron';
import { setSecretProtector } from '../pacs/settings';

const CSP = [
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

const appDir = path.dirname(fileURLToPath(import.meta.url)); // dist/app
const rendererIndex = path.join(appDir, '..', 'renderer', 'index.html');
const appUrlPrefix = pathToFileURL(path.dirname(rendererIndex)).href;

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
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
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  void win.loadFile(rendererIndex);
  return win;
}

// Packaged, the models are extra resources beside app.asar (see build/electron-builder.yml).
if (app.isPackaged) process.env.CVM_MODELS_DIR ??= path.join(process.resourcesPath, 'models');

app.enableSandbox();
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

void app.whenReady().then(() => {
  // Block every request that is not one of our own files: no remote content, ever.
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !(details.url.startsWith(appUrlPrefix) || details.url.startsWith('devtools://')) });
  });
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  // The PACS password or token: encrypted with the OS keychain (safeStorage); only the ciphertext is stored.
  setSecretProtector({
    name: 'Electron safeStorage',
    available: () => safeStorage.isEncryptionAvailable(),
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (cipher) => safeStorage.decryptString(cipher),
  });
  const dataDir = ensureDataDir(app.getPath('userData'));
  let win: BrowserWindow | null = createWindow();
  const ctx = {
    mode: 'electron' as const,
    dataDir,
    appVersion: app.getVersion(),
    emit: (name: string, payload: unknown) => { if (win) sendEvent(win.webContents, name, payload); },
  };
  warmUp(ctx);
  registerIpc(
    createHandlers(ctx),
    appUrlPrefix,
    (m) => console.error(`[ipc] ${m}`),
  );
  win.on('closed', () => { win = null; });
});

app.on('window-all-closed', () => app.quit());

let stopped = false;
app.on('will-quit', (event) => {
  if (stopped) return;
  event.preventDefault();
  void shutDown().finally(() => { stopped = true; app.quit(); });
});
