/** The settings table: key-value pairs, each change audited. */
import os from 'node:os';
import type { Connection } from './connection';

export class SettingsRepository {
  constructor(private readonly sql: Connection) {}

  get(key: string): string | null {
    return this.sql.read(
      'read a setting',
      () => this.sql.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', key)?.value ?? null,
    );
  }

  /** The name recorded with every change: the setting, else the operating-system user. */
  userName(): string {
    return this.get('userName') ?? defaultUserName();
  }

  set(key: string, value: string, author: string): void {
    this.sql.write('save a setting', () => {
      const before = this.get(key);
      this.sql.run(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
        key,
        value,
      );
      this.sql.audit(author, 'setting', null, `${key} set to "${value}"`, { [key]: before }, { [key]: value });
    });
  }
}

function defaultUserName(): string {
  try {
    return os.userInfo().username || 'unknown user';
  } catch {
    return 'unknown user';
  }
}
