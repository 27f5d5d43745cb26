/**
 * The store's connection as the repositories use it: prepared statements cached by their text, reads in one
 * snapshot, writes in one IMMEDIATE transaction, and the audit row every write leaves. Every statement and
 * every outermost transaction is timed (sql-timing.ts): SQLite blocks the calling thread for that long.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from './database';
import { StoreError, guardStorage } from './errors';
import { SqlTimings, statementName, type SqlTimingOptions } from './sql-timing';

type Statement = BetterSqlite3.Statement<unknown[]>;

export interface RunResult {
  readonly lastInsertRowid: number | bigint;
  readonly changes: number;
}

export const now = (): string => new Date().toISOString();

export class Connection {
  private readonly statements = new Map<string, { readonly statement: Statement; readonly name: string }>();
  readonly timings: SqlTimings;
  /** The name of the outermost transaction running now, for the log of a slow statement in it. */
  private current: string | undefined;
  /** Time spent in statements since the outermost transaction began. */
  private statementsMs = 0;

  constructor(
    readonly db: Db,
    /** The database file, named in every error. */
    readonly file: string,
    timing: SqlTimingOptions = {},
  ) {
    this.timings = new SqlTimings(timing);
  }

  get readonly(): boolean {
    return this.db.readonly;
  }

  private prepared(sql: string): { readonly statement: Statement; readonly name: string } {
    let s = this.statements.get(sql);
    if (!s) {
      s = {
        statement: guardStorage('prepare a query', this.file, () => this.db.prepare<unknown[]>(sql)),
        name: statementName(sql),
      };
      this.statements.set(sql, s);
    }
    return s;
  }

  private timed<T>(sql: string, call: (statement: Statement) => T): T {
    const { statement, name } = this.prepared(sql);
    const start = performance.now();
    try {
      return call(statement);
    } finally {
      const ms = performance.now() - start;
      this.statementsMs += ms;
      this.timings.record('statement', name, ms, this.current);
    }
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.timed(sql, (s) => s.get(...params) as T | undefined);
  }

  /**
   * A row the store's own writes guarantee (a row just inserted, an aggregate, a row its foreign key names);
   * `what` names it in the error when the database breaks that guarantee.
   */
  getRequired<T>(what: string, sql: string, ...params: unknown[]): T {
    const row = this.get<T>(sql, ...params);
    if (row === undefined)
      throw new StoreError('storage', 'corrupt', `The database ${this.file} has no ${what}, which it should have.`);
    return row;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.timed(sql, (s) => s.all(...params) as T[]);
  }

  run(sql: string, ...params: unknown[]): RunResult {
    return this.timed(sql, (s) => s.run(...params));
  }

  /**
   * Runs `fn` in a better-sqlite3 transaction (`mode`), timed as one transaction named `name` unless it runs
   * inside another (then it is part of that one's time): the whole, its statements, and the COMMIT after `fn`.
   */
  private transaction<T>(name: string, mode: 'immediate' | 'deferred', fn: () => T): T {
    if (this.current !== undefined || this.db.inTransaction) return this.db.transaction(fn)[mode]();
    this.current = name;
    this.statementsMs = 0;
    let bodyEnd = 0;
    const start = performance.now();
    try {
      return this.db
        .transaction(() => {
          try {
            return fn();
          } finally {
            bodyEnd = performance.now();
          }
        })
        [mode]();
    } finally {
      const end = performance.now();
      this.current = undefined;
      this.timings.record('transaction', name, end - start, undefined, {
        statementsMs: this.statementsMs,
        commitMs: bodyEnd > 0 ? end - bodyEnd : 0,
      });
    }
  }

  /**
   * One IMMEDIATE transaction: all of `fn` is committed, or (on any error) none of it. `action` is said in
   * errors; `name` (default: `action`) in the timing log, so an action naming a file passes a fixed name.
   */
  write<T>(action: string, fn: () => T, name = action): T {
    if (this.db.readonly)
      throw new StoreError('storage', 'read-only', `Could not ${action}: the database ${this.file} is open read-only.`);
    return guardStorage(action, this.file, () => this.transaction(name, 'immediate', fn));
  }

  /** Reads in one transaction, so every statement of `fn` sees the same snapshot while others write. */
  read<T>(action: string, fn: () => T): T {
    return guardStorage(action, this.file, () =>
      this.db.inTransaction ? fn() : this.transaction(action, 'deferred', fn),
    );
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
