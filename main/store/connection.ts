/**
 * The store's connection as the repositories use it: prepared statements cached by their text, reads in one
 * snapshot, writes in one IMMEDIATE transaction, and the audit row every write leaves. Every repository of
 * main/store (and the bone-age and PACS tables beside it) goes through this one object.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from './database';
import { StoreError, guardStorage } from './errors';

type Statement = BetterSqlite3.Statement<unknown[]>;

export interface RunResult {
  readonly lastInsertRowid: number | bigint;
  readonly changes: number;
}

export const now = (): string => new Date().toISOString();

export class Connection {
  private readonly statements = new Map<string, Statement>();

  constructor(
    readonly db: Db,
    /** The database file, named in every error. */
    readonly file: string,
  ) {}

  get readonly(): boolean {
    return this.db.readonly;
  }

  /** The prepared statement of `sql`, prepared once per connection. */
  stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = guardStorage('prepare a query', this.file, () => this.db.prepare<unknown[]>(sql));
      this.statements.set(sql, s);
    }
    return s;
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  run(sql: string, ...params: unknown[]): RunResult {
    return this.stmt(sql).run(...params);
  }

  /** One IMMEDIATE transaction: all of `fn` is committed, or (on any error) none of it. */
  write<T>(action: string, fn: () => T): T {
    if (this.db.readonly)
      throw new StoreError('storage', 'read-only', `Could not ${action}: the database ${this.file} is open read-only.`);
    return guardStorage(action, this.file, () => this.db.transaction(fn).immediate());
  }

  /** Reads in one transaction, so every statement of `fn` sees the same snapshot while others write. */
  read<T>(action: string, fn: () => T): T {
    return guardStorage(action, this.file, () => (this.db.inTransaction ? fn() : this.db.transaction(fn).deferred()));
  }

  /** The audit row of a change, written inside the change's transaction. */
  audit(
    author: string,
    action: string,
    imageId: number | null,
    summary: string,
    before?: unknown,
    after?: unknown,
  ): void {
    this.run(
      'INSERT INTO audit_log (at, author, action, image_ref, summary, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?)',
      now(),
      author,
      action,
      imageId,
      summary,
      before === undefined ? null : JSON.stringify(before),
      after === undefined ? null : JSON.stringify(after),
    );
  }
}
