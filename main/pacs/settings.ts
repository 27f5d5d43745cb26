/**
 * The PACS connection setting, stored in the data folder's settings table: URL, authentication kind, user
 * name, CA file, timeout and whether approved results are sent automatically. The password or token is
 * never stored in plain text: in the Electron app it is encrypted with the OS keychain (safeStorage, wired
 * in by main/app through `setSecretProtector`) and only the ciphertext is stored; elsewhere (browser mode)
 * it is kept in memory for the life of the process; the CLI reads it from CVM_PACS_PASSWORD or
 * CVM_PACS_TOKEN (or asks on the terminal). Logs and errors never contain it.
 */
import type { Store } from '../store/store';
import { PacsError, parseBaseUrl, type PacsAuth, type PacsConnection } from './http';

export interface PacsSettings {
  readonly url: string;
  readonly authKind: 'none' | 'basic' | 'bearer';
  readonly username: string;
  readonly caFile: string | null;
  readonly timeoutMs: number;
  /** Send results automatically when a study is approved (only approved results are ever sent automatically). */
  readonly autoSendApproved: boolean;
}

export const DEFAULT_PACS_SETTINGS: PacsSettings = {
  url: '',
  authKind: 'none',
  username: '',
  caFile: null,
  timeoutMs: 30_000,
  autoSendApproved: true,
};

/** Encrypts secrets for storage; Electron's safeStorage in the app. */
export interface SecretProtector {
  readonly name: string;
  available(): boolean;
  encrypt(plain: string): Buffer;
  decrypt(cipher: Buffer): string;
}

let protector: SecretProtector | null = null;
const memorySecrets = new Map<string, string>();

/** Called once by main/app with safeStorage; without it secrets live in memory only. */
export function setSecretProtector(p: SecretProtector | null): void {
  protector = p;
}

const SETTINGS_KEY = 'pacs.connection';
const SECRET_KEY = 'pacs.secret';

export function readPacsSettings(store: Store): PacsSettings {
  const raw = store.getSetting(SETTINGS_KEY);
  if (!raw) return DEFAULT_PACS_SETTINGS;
  try {
    return { ...DEFAULT_PACS_SETTINGS, ...(JSON.parse(raw) as Partial<PacsSettings>) };
  } catch {
    return DEFAULT_PACS_SETTINGS;
  }
}

export function validatePacsSettings(s: PacsSettings): void {
  if (s.url) parseBaseUrl(s.url);
  if (s.authKind === 'basic' && !s.username.trim())
    throw new PacsError('invalid-settings', 'Basic authentication needs a user name.');
  if (!(s.timeoutMs >= 1000 && s.timeoutMs <= 600_000))
    throw new PacsError('invalid-settings', 'The timeout must be between 1 and 600 seconds.');
}

export function writePacsSettings(store: Store, s: PacsSettings, author: string): PacsSettings {
  validatePacsSettings(s);
  const clean: PacsSettings = {
    ...s,
    url: s.url.trim(),
    username: s.username.trim(),
    caFile: s.caFile?.trim() || null,
  };
  store.setSetting(SETTINGS_KEY, JSON.stringify(clean), author);
  return clean;
}

/** Where the secret is kept, in words for the settings form. */
export function secretStorage(): string {
  return protector?.available()
    ? `encrypted with the operating system's keychain (${protector.name})`
    : 'kept in memory until the app quits (no keychain available)';
}

/** Stores (or with null, forgets) the password or token. Never in plain text in the database. */
export function writePacsSecret(store: Store, secret: string | null): void {
  const key = store.file;
  memorySecrets.delete(key);
  const sealed = secret && protector?.available() ? protector.encrypt(secret).toString('base64') : null;
  // Not through SettingsRepository.set: its audit row would hold the value (here the encrypted secret).
  store.sql.write('store the PACS password or token', () => {
    store.sql.run('DELETE FROM settings WHERE key = ?', SECRET_KEY);
    if (sealed !== null) store.sql.run('INSERT INTO settings (key, value) VALUES (?, ?)', SECRET_KEY, sealed);
  });
  if (secret && sealed === null) memorySecrets.set(key, secret);
}

export function hasPacsSecret(store: Store): boolean {
  return memorySecrets.has(store.file) || store.getSetting(SECRET_KEY) !== null;
}

export function readPacsSecret(store: Store): string | null {
  const inMemory = memorySecrets.get(store.file);
  if (inMemory !== undefined) return inMemory;
  const stored = store.getSetting(SECRET_KEY);
  if (stored === null) return null;
  if (!protector?.available()) return null;
  try {
    return protector.decrypt(Buffer.from(stored, 'base64'));
  } catch {
    throw new PacsError(
      'invalid-settings',
      'The stored PACS password cannot be decrypted on this machine or account; enter it again.',
    );
  }
}

/** The connection from the settings and a secret (from the store, or given: CLI environment or prompt). */
export function connectionOf(settings: PacsSettings, secret: string | null): PacsConnection {
  if (!settings.url) throw new PacsError('invalid-settings', 'No PACS is configured: set its DICOMweb URL first.');
  let auth: PacsAuth = { kind: 'none' };
  if (settings.authKind === 'basic') {
    if (secret === null)
      throw new PacsError(
        'invalid-settings',
        `No password for ${settings.username}: enter it in the PACS settings (CLI: set CVM_PACS_PASSWORD).`,
      );
    auth = { kind: 'basic', username: settings.username, password: secret };
  } else if (settings.authKind === 'bearer') {
    if (secret === null)
      throw new PacsError('invalid-settings', 'No token: enter it in the PACS settings (CLI: set CVM_PACS_TOKEN).');
    auth = { kind: 'bearer', token: secret };
  }
  return { url: settings.url, auth, caFile: settings.caFile, timeoutMs: settings.timeoutMs };
}
