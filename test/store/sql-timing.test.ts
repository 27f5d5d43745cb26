import { describe, expect, it } from 'vitest';
import { syntheticInfo, syntheticPoints } from '../../main/cli/bench/synthetic';
import { slowSqlMsFromEnv, statementName } from '../../main/store/sql-timing';
import { MODEL_RUN, addStudy, openStore, tempDir } from './helpers';

describe('SQL timing', () => {
  it('names statements by verb and table, from text that holds only placeholders', () => {
    expect(statementName('SELECT id, study_ref FROM images WHERE sha256 = ?')).toBe('SELECT images');
    expect(statementName('INSERT INTO audit_log (at) VALUES (?)')).toBe('INSERT audit_log');
    expect(statementName('  UPDATE images\n SET x = ? WHERE id = ?')).toBe('UPDATE images');
    expect(statementName('SELECT a FROM (SELECT i.id FROM images i LIMIT ?) page')).toBe('SELECT images');
    expect(statementName('PRAGMA table_info(stage_results)')).toBe('PRAGMA table_info');
  });

  it('reads the threshold from CVM_SLOW_SQL_MS, "off" for none, 16 ms otherwise', () => {
    expect(slowSqlMsFromEnv(undefined)).toBe(16);
    expect(slowSqlMsFromEnv('4')).toBe(4);
    expect(slowSqlMsFromEnv('off')).toBe(Infinity);
    expect(slowSqlMsFromEnv('soon')).toBe(16);
  });

  it('times every statement and transaction; the log names them and never carries patient data', () => {
    const lines: string[] = [];
    const store = openStore(tempDir(), { sqlTiming: { slowMs: 0, log: (l) => lines.push(l) } });
    const imageId = addStudy(store, 7);
    store.recordModelRun(imageId, {
      ...MODEL_RUN,
      landmarks: syntheticPoints('CS4'),
      confidences: {},
    });
    store.setPatientInfo(imageId, {}, 'dr who');
    store.listStudies({ offset: 0, limit: 10, search: 'ceph' });
    const summary = store.sql.timings.summary();
    const names = summary.map((e) => `${e.kind}:${e.name}`);
    expect(names).toContain('transaction:record an imported file');
    expect(names).toContain('transaction:record the model run');
    expect(names).toContain('transaction:list the studies');
    expect(names).toContain('statement:INSERT landmark_sets');
    expect(names).toContain('statement:INSERT audit_log');
    // With a threshold of 0 every timing is logged: one line per statement and transaction.
    expect(lines.length).toBe(summary.reduce((n, e) => n + e.count, 0));
    const info = syntheticInfo(7);
    const secrets = [info.meta.patientName, info.meta.patientId, info.fileName, 'dr who', 'tester', 'ceph'];
    for (const line of lines) {
      expect(line).toMatch(
        /^\[sql\] slow (statement|transaction) \d+\.\d ms: [A-Za-z_ ]+( \(in "[a-z ]+"\))?( \(statements \d+\.\d ms, commit \d+\.\d ms, other work \d+\.\d ms\))?$/,
      );
      for (const secret of secrets) expect(line).not.toContain(secret!);
    }
  });

  it('logs only what reaches the threshold, and counts it', () => {
    const lines: string[] = [];
    const store = openStore(tempDir(), { sqlTiming: { slowMs: 15, log: (l) => lines.push(l) } });
    addStudy(store, 1);
    // A statement that really takes long: a recursive count to three million.
    const heavy =
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT COUNT(*) AS c FROM n';
    const start = performance.now();
    expect(store.sql.read('count', () => store.sql.get<{ c: number }>(heavy, 3_000_000))?.c).toBe(3_000_000);
    expect(performance.now() - start).toBeGreaterThan(15);
    const slow = store.sql.timings.summary().filter((e) => e.slow > 0);
    expect(slow.map((e) => `${e.kind}:${e.name}`)).toEqual(
      expect.arrayContaining(['statement:WITH n', 'transaction:count']),
    );
    expect(lines.some((l) => /^\[sql\] slow statement \d+\.\d ms: WITH n \(in "count"\)$/.test(l))).toBe(true);
    for (const e of store.sql.timings.summary())
      expect(e.slow).toBe(lines.filter((l) => l.includes(`: ${e.name}`) && l.includes(e.kind)).length);
  });

  it("splits a transaction's time into its statements, its commit and the work between them", () => {
    const store = openStore(tempDir(), { sqlTiming: { slowMs: Infinity } });
    store.sql.write('busy write', () => {
      store.sql.run("INSERT INTO settings (key, value) VALUES ('k', 'v')");
      const start = performance.now();
      while (performance.now() - start < 20) {
        // JS work inside the transaction (as staging is): neither a statement nor the commit
      }
    });
    const entry = store.sql.timings.summary().find((e) => e.name === 'busy write')!;
    expect(entry.kind).toBe('transaction');
    expect(entry.totalMs).toBeGreaterThanOrEqual(20);
    expect(entry.totalMs - entry.statementsMs - entry.commitMs).toBeGreaterThanOrEqual(19.9);
    expect(entry.statementsMs).toBeGreaterThan(0);
    expect(entry.commitMs).toBeGreaterThan(0);
  });
});
