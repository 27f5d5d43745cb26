/**
 * Patient identity through the services, on a real SQLite store with real DICOM files (the project's own
 * writer): merge two patient IDs that are one person, split a study off a patient, undo both; every change
 * audit-logged, nothing rewritten, clear errors for what cannot be done.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { el, writeDicom } from '../../main/dicom/writer';
import { newUid } from '../../main/pacs/uid';
import type { ServiceContext } from '../../main/services/context';
import { pacsHandlers } from '../../main/services/pacs';
import { closeStudyStores, importFile, storeFor } from '../../main/services/studies';

function radiograph(patientId: string, name: string, birth: string, studyDate: string): Uint8Array {
  const size = 64;
  const pixels = new Uint8Array(size * size * 2);
  for (let p = 0; p < size * size; p++) pixels[2 * p] = (p * 7 + studyDate.charCodeAt(7)) & 0xff;
  return writeDicom([
    el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
    el(0x0008, 0x0018, 'UI', newUid()),
    el(0x0008, 0x0020, 'DA', studyDate),
    el(0x0008, 0x0060, 'CS', 'CR'),
    el(0x0010, 0x0010, 'PN', name),
    el(0x0010, 0x0020, 'LO', patientId),
    el(0x0010, 0x0030, 'DA', birth),
    el(0x0010, 0x0040, 'CS', 'F'),
    el(0x0020, 0x000d, 'UI', newUid()),
    el(0x0020, 0x000e, 'UI', newUid()),
    el(0x0028, 0x0002, 'US', [1]),
    el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    el(0x0028, 0x0010, 'US', [size]),
    el(0x0028, 0x0011, 'US', [size]),
    el(0x0028, 0x0100, 'US', [16]),
    el(0x0028, 0x0101, 'US', [12]),
    el(0x0028, 0x0102, 'US', [11]),
    el(0x0028, 0x0103, 'US', [0]),
    el(0x7fe0, 0x0010, 'OW', pixels),
  ]);
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-identity-'));
const ctx: ServiceContext = { mode: 'cli', dataDir, appVersion: 'test', emit: () => {} };
const api = pacsHandlers(ctx);
const ids: Record<string, number> = {};

async function value<T>(p: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
const visitDates = async (imageId: number): Promise<string[]> =>
  (await value(api.patientTimeline({ imageId }))).visits.map((v) => v.studyDate ?? '-');
const audit = (): string[] =>
  (
    storeFor(ctx)
      .db.prepare(
        "SELECT action || ': ' || summary FROM audit_log WHERE action LIKE 'patient-%' OR action LIKE 'study-%' ORDER BY id",
      )
      .pluck()
      .all() as string[]
  ).map((s) => s.replace(/study \d+/, 'study N'));

beforeAll(async () => {
  const files: Array<[string, string, string, string, string]> = [
    ['a1', 'ID-A', 'Same^Person', '20050101', '20160601'],
    ['a2', 'ID-A', 'Same^Person', '20050101', '20170601'],
    ['b1', 'ID-B', 'Same^Person', '20050101', '20180601'],
    ['c1', 'ID-C', 'Other^Person', '20030101', '20150101'],
  ];
  for (const [key, pid, name, birth, date] of files) {
    const r = await importFile(storeFor(ctx), `${key}.dcm`, radiograph(pid, name, birth, date), { author: 'test' });
    if (!r.ok) throw new Error(r.error.message);
    ids[key] = r.imageId;
  }
});
afterAll(() => {
  closeStudyStores();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('patient identity: merge, split, rejoin', () => {
  it('lists local patients by ID or name, with their study counts', async () => {
    const { patients } = await value(api.listPatients({ search: 'same', limit: 20 }));
    expect(patients.map((p) => [p.patientId, p.studies, p.mergedInto])).toEqual([
      ['ID-A', 2, null],
      ['ID-B', 1, null],
    ]);
    expect((await value(api.listPatients({ search: 'id-c', limit: 20 }))).patients.map((p) => p.name)).toEqual([
      'Other, Person',
    ]);
    expect((await value(api.listPatients({ search: '%', limit: 20 }))).patients).toEqual([]);
  });

  it('merging ID-B into ID-A puts all three visits on one timeline, from either image', async () => {
    expect(await visitDates(ids.b1!)).toEqual(['2018-06-01']);
    const r = await value(api.mergePatients({ patientId: 'ID-A', otherPatientId: 'ID-B' }));
    expect(r.message).toBe('Patient ID-B is now shown as the same person as ID-A.');
    expect(await visitDates(ids.a1!)).toEqual(['2016-06-01', '2017-06-01', '2018-06-01']);
    expect(await visitDates(ids.b1!)).toEqual(['2016-06-01', '2017-06-01', '2018-06-01']);
    const t = await value(api.patientTimeline({ imageId: ids.b1! }));
    expect([t.patientId, t.merged]).toEqual(['ID-A', ['ID-B']]);
    expect((await value(api.listPatients({ search: 'ID-B', limit: 5 }))).patients[0]!.mergedInto).toBe('ID-A');
    // Nothing rewritten: the study is still filed under ID-B.
    expect(
      storeFor(ctx)
        .db.prepare(
          'SELECT p.dicom_patient_id FROM images i JOIN studies st ON st.id = i.study_ref JOIN patients p ON p.id = st.patient_ref WHERE i.id = ?',
        )
        .pluck()
        .get(ids.b1!),
    ).toBe('ID-B');
  });

  it('refuses a second merge of the same pair and an unknown patient, with the reason', async () => {
    const again = await api.mergePatients({ patientId: 'ID-B', otherPatientId: 'ID-A' });
    expect(!again.ok && again.error.message).toBe('ID-B and ID-A are already one patient.');
    const unknown = await api.mergePatients({ patientId: 'ID-A', otherPatientId: 'NOPE' });
    expect(!unknown.ok && unknown.error.message).toMatch(/^No patient with ID "NOPE"/);
  });

  it('splitting a study off takes it off the merged timeline; it stands alone and can rejoin', async () => {
    const r = await value(api.splitStudy({ imageId: ids.a2! }));
    expect(r.message).toMatch(/^The study of 2017-06-01 is no longer shown as this patient's/);
    expect(await visitDates(ids.a1!)).toEqual(['2016-06-01', '2018-06-01']);
    const main = await value(api.patientTimeline({ imageId: ids.a1! }));
    expect(main.splitOff.map((s) => [s.studyDate, s.imageIds, s.by])).toEqual([
      ['2017-06-01', [ids.a2!], storeFor(ctx).userName()],
    ]);
    const alone = await value(api.patientTimeline({ imageId: ids.a2! }));
    expect(alone.visits.map((v) => v.studyDate)).toEqual(['2017-06-01']);
    expect(alone.splitFrom?.patientId).toBe('ID-A');
    const twice = await api.splitStudy({ imageId: ids.a2! });
    expect(!twice.ok && twice.error.message).toMatch(/already split off/);
    await value(api.rejoinStudy({ imageId: ids.a2! }));
    expect(await visitDates(ids.a1!)).toEqual(['2016-06-01', '2017-06-01', '2018-06-01']);
    const notSplit = await api.rejoinStudy({ imageId: ids.a2! });
    expect(!notSplit.ok && notSplit.error.message).toMatch(/is not split off a patient/);
  });

  it('splitting the merged patient off restores both timelines; every change is in the audit log', async () => {
    const r = await value(api.splitPatient({ patientId: 'ID-B' }));
    expect(r.message).toBe('Patient ID-B has its own timeline again.');
    expect(await visitDates(ids.a1!)).toEqual(['2016-06-01', '2017-06-01']);
    expect(await visitDates(ids.b1!)).toEqual(['2018-06-01']);
    const root = await api.splitPatient({ patientId: 'ID-A' });
    expect(!root.ok && root.error.message).toBe('Patient ID-A is not merged into another.');
    expect(await visitDates(ids.c1!)).toEqual(['2015-01-01']);
    expect(audit()).toEqual([
      'patient-merge: patient ID-B merged into ID-A',
      'study-split: study N split off patient ID-A',
      'study-rejoin: study N rejoined patient ID-A',
      'patient-split: patient ID-B split off',
    ]);
  });
});
