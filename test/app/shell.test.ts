/**
 * The Electron shell's start-up and shutdown under plain Node, against a typed stand-in of the Electron API
 * it uses (no Electron binary can run here): the window's security options, CSP, request and permission
 * guards, IPC registration with the sender check, the data-folder lock, worker start and a clean quit.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BrowserWindowConstructorOptions } from 'electron';
import { channelOf, METHOD_NAMES } from '../../core/api/index';
import { CSP, startShell, type ElectronSurface } from '../../main/app/shell';
import { LOCK_FILE_NAME } from '../../main/store/lock';
import { Store } from '../../main/store/store';

type Listener = (...args: unknown[]) => unknown;

/** Records what the shell does with each part of Electron. */
function standIn(userData: string) {
  const appEvents = new Map<string, Listener>();
  const windowEvents = new Map<string, Listener>();
  const contentsEvents = new Map<string, Listener>();
  const ipc = new Map<string, Listener>();
  const windows: BrowserWindowConstructorOptions[] = [];
  const loaded: string[] = [];
  const errors: string[] = [];
  let beforeRequest: Listener | undefined;
  let headersReceived: Listener | undefined;
  let permission: Listener | undefined;
  let windowOpen: Listener | undefined;
  let quitCalls = 0;
  let sandboxed = false;
  const webContents = {
    on: (name: string, fn: Listener) => {
      contentsEvents.set(name, fn);
      return webContents;
    },
    setWindowOpenHandler: (fn: Listener) => {
      windowOpen = fn;
    },
    isDestroyed: () => false,
    send: () => {},
  };
  class FakeWindow {
    readonly webContents = webContents;
    constructor(options: BrowserWindowConstructorOptions) {
      windows.push(options);
    }
    on(name: string, fn: Listener) {
      windowEvents.set(name, fn);
      return this;
    }
    async loadFile(file: string) {
      loaded.push(file);
    }
  }
  const electron = {
    app: {
      isPackaged: false,
      enableSandbox: () => {
        sandboxed = true;
      },
      on: (name: string, fn: Listener) => {
        appEvents.set(name, fn);
      },
      whenReady: async () => {},
      getPath: () => userData,
      getVersion: () => '0.0.0-test',
      quit: () => {
        quitCalls += 1;
      },
    },
    BrowserWindow: FakeWindow,
    session: {
      defaultSession: {
        webRequest: {
          onBeforeRequest: (fn: Listener) => {
            beforeRequest = fn;
          },
          onHeadersReceived: (fn: Listener) => {
            headersReceived = fn;
          },
        },
        setPermissionRequestHandler: (fn: Listener) => {
          permission = fn;
        },
      },
    },
    ipcMain: {
      handle: (channel: string, fn: Listener) => {
        ipc.set(channel, fn);
      },
      removeHandler: (channel: string) => {
        ipc.delete(channel);
      },
    },
    dialog: {
      showErrorBox: (title: string, message: string) => {
        errors.push(`${title}: ${message}`);
      },
    },
    safeStorage: {
      isEncryptionAvailable: () => true,
      encryptString: (plain: string) => Buffer.from(plain, 'utf8').reverse(),
      decryptString: (cipher: Buffer) => Buffer.from(cipher).reverse().toString('utf8'),
    },
  } as unknown as ElectronSurface;
  return {
    electron,
    appEvents,
    windowEvents,
    contentsEvents,
    ipc,
    windows,
    loaded,
    errors,
    beforeRequest: () => beforeRequest!,
    headersReceived: () => headersReceived!,
    permission: () => permission!,
    windowOpen: () => windowOpen!,
    quitCalls: () => quitCalls,
    sandboxed: () => sandboxed,
  };
}

const root = mkdtempSync(path.join(os.tmpdir(), 'cvm-shell-'));
const appDir = path.join(root, 'dist', 'app');
const rendererIndex = path.join(root, 'dist', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(path.dirname(rendererIndex)).href;

describe('the Electron shell under a stand-in', () => {
  const userData = path.join(root, 'user-data');
  const e = standIn(userData);
  const started = startShell(e.electron, { appDir, rendererIndex });
  afterAll(async () => {
    const quit = e.appEvents.get('will-quit');
    if (quit)
      await new Promise<void>((resolve) => {
        quit({ preventDefault: () => resolve() });
        setTimeout(resolve, 5000);
      });
  });

  it('opens one locked-down window on the renderer files', async () => {
    await started;
    expect(e.sandboxed()).toBe(true);
    expect(e.windows).toHaveLength(1);
    expect(e.windows[0]?.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      preload: path.join(appDir, 'preload.cjs'),
    });
    expect(e.loaded).toEqual([rendererIndex]);
  });

  it('blocks navigation, new windows and every request that is not one of its own files', async () => {
    await started;
    let prevented = false;
    e.contentsEvents.get('will-navigate')?.({
      preventDefault: () => {
        prevented = true;
      },
    });
    expect(prevented).toBe(true);
    expect(e.windowOpen()({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const decide = (url: string): boolean => {
      let cancel: boolean | undefined;
      e.beforeRequest()({ url }, (r: { cancel: boolean }) => {
        cancel = r.cancel;
      });
      return cancel!;
    };
    expect(decide(`${rendererUrl}/index.html`)).toBe(false);
    expect(decide('https://example.com/x.js')).toBe(true);
    expect(decide(`${rendererUrl}-evil/index.html`)).toBe(true);
    expect(decide('file:///etc/passwd')).toBe(true);
  });

  it('sends the strict CSP with every response and denies every permission', async () => {
    await started;
    let headers: Record<string, string[]> = {};
    e.headersReceived()(
      { responseHeaders: { 'X-Other': ['1'] } },
      (r: { responseHeaders: Record<string, string[]> }) => {
        headers = r.responseHeaders;
      },
    );
    expect(headers['Content-Security-Policy']).toEqual([CSP]);
    expect(headers['X-Other']).toEqual(['1']);
    expect(CSP).toContain("default-src 'self'");
    expect(CSP).toContain("object-src 'none'");
    let granted: boolean | undefined;
    e.permission()(null, 'media', (g: boolean) => {
      granted = g;
    });
    expect(granted).toBe(false);
  });

  it('registers one IPC handler per contract method, which refuses frames from anywhere else', async () => {
    await started;
    expect([...e.ipc.keys()].sort()).toEqual(METHOD_NAMES.map(channelOf).sort());
    const appInfo = e.ipc.get(channelOf('appInfo'))!;
    const from = (url: string) => ({ senderFrame: { url } });
    await expect(appInfo(from(`${rendererUrl}/index.html`), {})).resolves.toMatchObject({
      ok: true,
      value: { mode: 'electron' },
    });
    for (const url of [
      `${rendererUrl}-evil/index.html`,
      'https://example.com/',
      `${rendererUrl}/../../etc/x.html`,
      '',
    ]) {
      await expect(appInfo(from(url), {})).resolves.toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    }
  });

  it('takes the data-folder lock at start, so a second writer is refused at once', async () => {
    await started;
    expect(existsSync(path.join(userData, LOCK_FILE_NAME))).toBe(true);
    expect(() => Store.open(userData, { purpose: 'second writer' })).toThrow(/in use|locked|another/i);
  });

  it('quits cleanly: the workers stop and the lock is released', async () => {
    await started;
    const quit = e.appEvents.get('will-quit')!;
    await new Promise<void>((resolve) => {
      quit({ preventDefault: () => {} });
      const poll = setInterval(() => {
        if (e.quitCalls() > 0) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    expect(existsSync(path.join(userData, LOCK_FILE_NAME))).toBe(false);
    e.appEvents.delete('will-quit');
  });
});

describe('a second copy of the app on the same data folder', () => {
  it('shows why it cannot open the folder and quits without opening a window', async () => {
    const userData = path.join(root, 'shared-data-dir');
    const first = Store.open(userData, { purpose: 'the first copy' });
    try {
      const e = standIn(userData);
      await startShell(e.electron, { appDir, rendererIndex });
      expect(e.windows).toHaveLength(0);
      expect(e.errors).toHaveLength(1);
      expect(e.errors[0]).toMatch(/cannot open its data folder/);
      expect(e.quitCalls()).toBe(1);
    } finally {
      first.close();
    }
  });
});
