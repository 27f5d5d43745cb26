/** `npm run web -- [--port N] [--data-dir DIR]`: the workstation in a browser, on 127.0.0.1 only. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir, ensureDataDir } from '../services/data-dir';
import { APP_ROOT, appVersion } from '../services/version';
import type { RunningWebServer } from './server';
import { startBrowserMode } from './start';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '5170' }, 'data-dir': { type: 'string' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
  process.exit(2);
}
const rendererDir = path.join(APP_ROOT, 'dist', 'renderer');
if (!existsSync(path.join(rendererDir, 'index.html'))) {
  console.error(`The renderer is not built (${rendererDir}): run "npm run build:renderer" first.`);
  process.exit(1);
}
const dataDir = ensureDataDir(values['data-dir'] ?? defaultDataDir());
let server: RunningWebServer;
try {
  server = await startBrowserMode({
    port,
    dataDir,
    rendererDir,
    appVersion: appVersion(),
    log: (m) => console.error(`[web] ${m}`),
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
console.log(`CVM Workstation (browser mode) at ${server.url}  data: ${dataDir}`);
const stop = (): void => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
