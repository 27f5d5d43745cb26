import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The per-user data folder used when no --data-dir is given (the Electron app uses app.getPath('userData')). */
export function defaultDataDir(): string {
  const home = os.homedir();
  if (process.platform === 'win32')
    return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'CVM Workstation');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'CVM Workstation');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'cvm-workstation');
}

export function ensureDataDir(dir: string): string {
  const resolved = path.resolve(dir);
  mkdirSync(resolved, { recursive: true });
  return resolved;
}
