/**
 * End-to-end harness: the real browser-mode server (real services, a fresh data folder) and Debian's
 * Chromium driven by playwright-core.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { createHandlers } from '../../main/services/handlers';
import { startWebServer, type RunningWebServer } from '../../main/web/server';
import { REPO_ROOT } from '../shared-data';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const RENDERER_DIR = path.join(REPO_ROOT, 'dist', 'renderer');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'screenshots');

export interface Session {
  readonly server: RunningWebServer;
  readonly browser: Browser;
  readonly page: Page;
  readonly dataDir: string;
  close(): Promise<void>;
}

export async function startSession(viewport = { width: 1366, height: 768 }, dataDir?: string): Promise<Session> {
  if (!existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    throw new Error(`renderer not built at ${RENDERER_DIR}: run "npm run build:renderer" (npm test does)`);
  }
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'cvm-e2e-'));
  const server = await startWebServer({
    port: 0,
    rendererDir: RENDERER_DIR,
    handlers: (emit) => createHandlers({ mode: 'web', dataDir: dir, appVersion: 'test', emit }),
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(server.url);
  return {
    server,
    browser,
    page,
    dataDir: dir,
    close: async () => {
      await browser.close();
      await server.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  return path.join(SCREENSHOT_DIR, `${name}.png`);
}

/** One browser session for the enclosing describe block: started before its tests, closed after them. */
export function sessionPerSuite(viewport = { width: 1366, height: 768 }): () => Session {
  let session: Session | undefined;
  beforeAll(async () => {
    session = await startSession(viewport);
  });
  afterAll(async () => {
    await session?.close();
  });
  return () => {
    if (!session) throw new Error('the browser session did not start');
    return session;
  };
}
