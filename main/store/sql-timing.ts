/**
 * Timing of every SQL statement and transaction of the store. SQLite runs synchronously on the thread that
 * calls it (the Electron main thread in the app), so each duration is time that thread was blocked. Kept per
 * name (count, total, max); a duration at or above the threshold is logged with its name and duration, never
 * with parameter values: patient data stays out of logs (statement names are derived from the SQL text, which
 * only ever holds placeholders; transaction names are fixed phrases).
 */

/** One frame at 60 Hz: SQL that blocks the UI thread longer than this can drop a frame. */
export const DEFAULT_SLOW_SQL_MS = 16;

export type SqlTimingKind = 'statement' | 'transaction';

export interface SqlTimingEntry {
  readonly kind: SqlTimingKind;
  readonly name: string;
  count: number;
  totalMs: number;
  maxMs: number;
  /** How many took at least the threshold. */
  slow: number;
  /** Transactions: of `totalMs`, the time in statements and in COMMIT (the fsync of the WAL); the rest is JS. */
  statementsMs: number;
  commitMs: number;
}

/** Where a transaction's time went. */
export interface TransactionParts {
  readonly statementsMs: number;
  readonly commitMs: number;
}

export interface SqlTimingOptions {
  /** Log a statement or transaction from this many milliseconds on; Infinity logs nothing. */
  readonly slowMs?: number;
  readonly log?: (line: string) => void;
  /** Sees every duration (measurements). */
  readonly observe?: (kind: SqlTimingKind, name: string, ms: number) => void;
}

/**
 * The threshold from CVM_SLOW_SQL_MS (a number of milliseconds, or "off"), else DEFAULT_SLOW_SQL_MS. Read
 * once per store, so a developer can lower it to see every statement of a use case.
 */
export function slowSqlMsFromEnv(value = process.env['CVM_SLOW_SQL_MS']): number {
  if (value === undefined || value.trim() === '') return DEFAULT_SLOW_SQL_MS;
  if (value.trim().toLowerCase() === 'off') return Infinity;
  const ms = Number(value);
  return Number.isFinite(ms) && ms >= 0 ? ms : DEFAULT_SLOW_SQL_MS;
}

/**
 * A statement's name from its text: the verb and the first table, e.g. "INSERT audit_log", "SELECT images",
 * "UPDATE images". No values: every value reaches SQLite as a bound parameter.
 */
export function statementName(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = (/^\w+/.exec(text)?.[0] ?? '?').toUpperCase();
  const table =
    verb === 'INSERT'
      ? /\bINTO\s+(\w+)/i.exec(text)
      : verb === 'UPDATE'
        ? /^UPDATE\s+(\w+)/i.exec(text)
        : verb === 'PRAGMA'
          ? /^PRAGMA\s+(\w+)/i.exec(text)
          : /\bFROM\s+(\w+)/i.exec(text);
  return table?.[1] ? `${verb} ${table[1]}` : verb;
}

export class SqlTimings {
  private readonly entries = new Map<string, SqlTimingEntry>();
  readonly slowMs: number;
  private readonly log: (line: string) => void;
  private readonly observe: ((kind: SqlTimingKind, name: string, ms: number) => void) | undefined;

  constructor(options: SqlTimingOptions = {}) {
    this.slowMs = options.slowMs ?? slowSqlMsFromEnv();
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.observe = options.observe;
  }

  /** Records one duration; `within` names the transaction a statement ran in. */
  record(kind: SqlTimingKind, name: string, ms: number, within?: string, parts?: TransactionParts): void {
    const key = `${kind}:${name}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { kind, name, count: 0, totalMs: 0, maxMs: 0, slow: 0, statementsMs: 0, commitMs: 0 };
      this.entries.set(key, entry);
    }
    entry.count += 1;
    entry.totalMs += ms;
    entry.statementsMs += parts?.statementsMs ?? 0;
    entry.commitMs += parts?.commitMs ?? 0;
    if (ms > entry.maxMs) entry.maxMs = ms;
    this.observe?.(kind, name, ms);
    if (ms >= this.slowMs) {
      entry.slow += 1;
      const split = parts
        ? ` (statements ${parts.statementsMs.toFixed(1)} ms, commit ${parts.commitMs.toFixed(1)} ms, ` +
          `other work ${Math.max(0, ms - parts.statementsMs - parts.commitMs).toFixed(1)} ms)`
        : '';
      this.log(`[sql] slow ${kind} ${ms.toFixed(1)} ms: ${name}${within ? ` (in "${within}")` : ''}${split}`);
    }
  }

  /** Every name timed so far, the longest total first. */
  summary(): SqlTimingEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e })).sort((a, b) => b.totalMs - a.totalMs);
  }
}
