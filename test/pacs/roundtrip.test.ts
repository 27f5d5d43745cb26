/**
 * The whole PACS path against a real Orthanc with its DICOMweb plugin: upload shared radiographs (made into
 * two visits of one patient and a hip study), query, pull (each SOP Instance UID once, the hip skipped with
 * its reason), analyse, approve, push; read the SR back from Orthanc and check every value with dcmtk's
 * dsrdump, check the Secondary Capture with dcmdump; re-approval supersedes the SR; the timeline.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import type { Measurements } from '../../core/cvm/types';
import { decodeImageFile } from '../../main/dicom/index';
import { DicomWebClient } from '../../main/pacs/client';
import { sendOutbox } from '../../main/pacs/outbox';
import { pullStudies } from '../../main/pacs/pull';
import { PacsRepo } from '../../main/pacs/repo';
import { prepareResults } from '../../main/pacs/results';
import { readSourceImage } from '../../main/pacs/source';
import { stageRecordOf } from '../../main/store/stage';
import { patientTimeline } from '../../main/pacs/timeline';
import { analysisHandlers, closeInferenceEngines } from '../../main/services/analysis';
import { closeStudyStores, fileImporter, storeFor } from '../../main/services/studies';
import type { Store } from '../../main/store/store';
import { SKIP_NO_SHARED, sharedPath } from '../shared-data';
import { DCMTK_SKIP, dcm2pnm, dcmdump, dsrdump, makeVisit, testPagePng } from './fixtures';
import { saveReportPage } from '../../main/pacs/report-page';
import { decode } from 'fast-png';
import { ORTHANC_SKIP, startOrthanc, type Orthanc } from './orthanc';

const SKIP = SKIP_NO_SHARED || ORTHANC_SKIP || DCMTK_SKIP;
if (SKIP) console.warn(SKIP);

const PATIENT = { patientId: 'CVM-TL-1', patientName: 'Growth^Timeline', birthDate: '20050301' };

/**
 * Landmarks of the first shared annotated cephalogram (a real C2-C4 spine) that the rules give a stage, placed as a
 * human edit.
 */
function annotatedPoints(): Record<string, [number, number]> {
  const ann = JSON.parse(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8')) as {
    images: Record<string, { points: Record<string, [number, number]> }>;
  };
  const staged = Object.values(ann.images).find(
    (i) => stageRecordOf(i.points, { rowMm: 0.1, colMm: 0.1 }).summary.kind === 'stage',
  );
  if (!staged) throw new Error('no annotated spine has a stage');
  return staged.points;
}

/** The Orthanc instance with this SOP Instance UID, as a file on disk. */
async function fetchFromOrthanc(o: Orthanc, sopUid: string, dir: string): Promise<string> {
  const found = await fetch(`${o.url}/tools/lookup`, { method: 'POST', body: sopUid });
  const [hit] = (await found.json()) as Array<{ ID: string; Type: string }>;
  expect(hit?.Type).toBe('Instance');
  const res = await fetch(`${o.url}/instances/${hit!.ID}/file`);
  const file = path.join(dir, `${sopUid}.dcm`);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

/** dsrdump's NUM lines: concept code -> [value, unit code]. */
function numbersOf(dump: string): Map<string, [number, string]> {
  const out = new Map<string, [number, string]>();
  for (const m of dump.matchAll(/NUM:\(([^,]+),[^,]+,"[^"]*"\)="([^"]+)" \(([^,]+),UCUM/g))
    out.set(m[1]!, [Number(m[2]), m[3]!]);
  return out;
}

function expectOnlyCharsetWarning(warnings: string): void {
  const lines = warnings
    .split('\n')
    .filter((l) => l.trim() && !/does not support this Specific Character Set: ISO_IR 192/.test(l));
  expect(lines).toEqual([]);
}

describe.skipIf(SKIP)('PACS round trip against a real Orthanc', () => {
  let orthanc: Orthanc;
  let dataDir: string;
  let work: string;
  let store: Store;
  let client: DicomWebClient;
  const uids: { visit1: string; visit2: string; hip: string } = { visit1: '', visit2: '', hip: '' };
  const ctx = (): { dataDir: string; mode: 'cli'; appVersion: string; emit: () => void } => ({
    dataDir,
    mode: 'cli',
    appVersion: '0.1.0',
    emit: () => {},
  });

  beforeAll(async () => {
    orthanc = await startOrthanc();
    work = mkdtempSync(path.join(os.tmpdir(), 'cvm-pacs-rt-'));
    dataDir = path.join(work, 'data');
    const v1 = makeVisit({ ...PATIENT, studyDate: '20170310' }, work);
    const v2 = makeVisit({ ...PATIENT, studyDate: '20180920' }, work);
    const hip = makeVisit(
      { ...PATIENT, studyDate: '20180920', bodyPart: 'HIP', view: 'AP', source: 'RG3_JLSL.dcm' },
      work,
    );
    uids.visit1 = (await orthanc.upload(v1.bytes), readSourceImage('v1', v1.bytes).studyInstanceUid);
    uids.visit2 = (await orthanc.upload(v2.bytes), readSourceImage('v2', v2.bytes).studyInstanceUid);
    uids.hip = (await orthanc.upload(hip.bytes), readSourceImage('hip', hip.bytes).studyInstanceUid);
    client = new DicomWebClient({ url: orthanc.dicomWeb, auth: { kind: 'none' } });
    store = storeFor({ dataDir, mode: 'cli' });
  }, 120_000);

  afterAll(async () => {
    await closeInferenceEngines();
    closeStudyStores();
    await orthanc?.stop({ removeStorage: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("finds the patient's studies by ID and by date range", async () => {
    expect((await client.testConnection()).url).toBe(orthanc.dicomWeb);
    const all = await client.searchStudies({ patientId: PATIENT.patientId }, { offset: 0, limit: 100 });
    expect(all.map((s) => s.studyInstanceUid).sort()).toEqual([uids.visit1, uids.visit2, uids.hip].sort());
    expect(all.every((s) => s.patientName === PATIENT.patientName && s.modalities.includes('CR'))).toBe(true);
    const later = await client.searchStudies(
      { patientId: PATIENT.patientId, from: '2018-01-01', to: '2018-12-31' },
      { offset: 0, limit: 100 },
    );
    expect(later.map((s) => s.studyDate)).toEqual(['2018-09-20', '2018-09-20']);
    expect(await client.searchStudies({ patientId: 'NOBODY' }, { offset: 0, limit: 10 })).toEqual([]);
  });

  it('pulls each cephalogram once, skips the hip with its reason, and fetches nothing again on a second pull', async () => {
    const first = await pullStudies(store, client, [uids.visit1, uids.visit2, uids.hip], {
      importer: fileImporter,
      author: 'tester',
    });
    expect(first.retrieved).toBe(2);
    expect(first.skipped).toBe(1);
    expect(first.failed).toBe(0);
    const hip = first.studies.find((s) => s.studyUid === uids.hip)!.instances[0]!;
    expect(hip.outcome === 'skipped' && hip.reason).toMatch(/body part HIP is not the head or neck/);
    const retrieved = first.studies.flatMap((s) => s.instances).filter((i) => i.outcome === 'retrieved');
    expect(
      retrieved.every(
        (i) =>
          'note' in i &&
          /recognised from the DICOM header \(modality CR, body part SKULL, view LL\)/.test(i.note ?? ''),
      ),
    ).toBe(true);

    const spy = vi.spyOn(client, 'retrieveInstance');
    const second = await pullStudies(store, client, [uids.visit1, uids.visit2], {
      importer: fileImporter,
      author: 'tester',
    });
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(second.alreadyPresent).toBe(2);
    expect(second.retrieved).toBe(0);
    expect(store.db.prepare('SELECT COUNT(*) FROM images').pluck().get()).toBe(2);
    expect(store.db.prepare('SELECT COUNT(*) FROM pacs_instances').pluck().get()).toBe(2);
  });

  it('sends an approved result as a VERIFIED SR whose every value dsrdump reads back, and a Secondary Capture that opens', async () => {
    const imageId = (
      store.db
        .prepare('SELECT i.id FROM images i JOIN studies s ON s.id = i.study_ref WHERE s.study_instance_uid = ?')
        .get(uids.visit1) as { id: number }
    ).id;
    const analysed = await analysisHandlers(ctx()).analyzeImage({ imageId });
    expect(analysed.ok).toBe(true);
    const points = annotatedPoints();
    // The model's run is recorded; on these hip radiographs it may leave no landmarks (not a cephalogram).
    const ai = store.loadStudy(imageId).latest;
    store.addVersion(
      imageId,
      ai
        ? { kind: 'edit', points, author: 'Dr Reviewer', baseVersionId: ai.versionId, moved: [...LANDMARK_NAMES] }
        : { kind: 'manual', points, author: 'Dr Reviewer', baseVersionId: null },
    );
    // The annotated spine comes from a 0.1 mm/pixel cephalogram: calibrate so the mm criteria apply as there.
    store.setCalibration(
      imageId,
      { rowMm: 0.1, colMm: 0.1, method: 'entered', detail: 'spacing of the annotated cephalogram' },
      'Dr Reviewer',
    );
    store.setReviewStatus(imageId, 'approved', 'Dr Reviewer');
    const detail = store.loadStudy(imageId);
    expect(detail.latest!.stage!.kind, detail.latest!.stage!.label).toBe('stage');

    // Before the app has drawn the report page, the SR goes alone, and says why there is no SC.
    const srOnly = await prepareResults(store, imageId, { author: 'tester', appVersion: '0.1.0' });
    expect([srOnly.scId, srOnly.scMissing]).toEqual([
      null,
      'No Secondary Capture yet: the app has not drawn its report page yet (it is drawn when the study is approved or its report written in the app).',
    ]);
    // The app hands over the page it drew (here a test page: the real one is checked in test/e2e/pacs.test.ts);
    // one of another landmark version is refused.
    const pagePng = testPagePng();
    expect(() =>
      saveReportPage(
        store,
        {
          imageId,
          setId: detail.latest!.versionId + 999,
          reviewStatus: 'approved',
          reviewAt: detail.review.at,
          png: pagePng,
        },
        'tester',
      ),
    ).toThrow(/no longer its latest: draw the report again/);
    saveReportPage(
      store,
      { imageId, setId: detail.latest!.versionId, reviewStatus: 'approved', reviewAt: detail.review.at, png: pagePng },
      'tester',
    );
    const prepared = await prepareResults(store, imageId, { author: 'tester', appVersion: '0.1.0' });
    expect(prepared.verified).toBe(true);
    expect(prepared.srUid).toBe(srOnly.srUid); // the SR was queued already: only the SC is new
    expect(prepared.scMissing).toBeNull();
    const report = await sendOutbox(store, client, { author: 'tester' });
    expect(report.failed).toEqual([]);
    expect(report.sent.map((s) => s.kind)).toEqual(['sr', 'sc']);
    expect(new PacsRepo(store).sendStates([imageId]).get(imageId)?.status).toBe('sent');

    const srFile = await fetchFromOrthanc(orthanc, prepared.srUid, work);
    const { out, warnings } = dsrdump(srFile);
    expectOnlyCharsetWarning(warnings);
    const source = readSourceImage('source', readFileSync(store.absolutePath(store.imageRow(imageId).stored_path)));
    expect(out).toMatch(/^Comprehensive SR Document/m);
    expect(out).toMatch(/Verification Flag\s+: VERIFIED/);
    expect(out).toMatch(/Verifying Observers : \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+00:00, Dr Reviewer, CVM Workstation/);
    expect(out).toMatch(/Patient\s+: Growth\^Timeline \(M, 2005-03-01, #CVM-TL-1\)/);
    expect(out).toContain('<CONTAINER:(126000,DCM,"Imaging Measurement Report")=SEPARATE>  # TID 1500 (DCMR)');
    expect(out).toContain('<has obs context PNAME:(121008,DCM,"Person Observer Name")="Dr Reviewer">');
    const run = detail.ai?.modelRun ?? null;
    if (run) {
      expect(out).toContain(`<has concept mod TEXT:(111001,DCM,"Algorithm Name")="${run.modelId}">`);
      expect(out).toContain(`<has concept mod TEXT:(111003,DCM,"Algorithm Version")="${run.modelVersion}">`);
    } else {
      expect(out).not.toContain('Algorithm Name');
      expect(out).toContain('="manual by Dr Reviewer, version 1">');
    }
    expect(out).toContain(`<contains IMAGE:=(CR image,"${source.sopInstanceUid}")>`);
    const stage = detail.latest!.stage!;
    expect(out).toContain(
      `<contains CODE:(CVM-STAGE,99CVMWS,"Cervical vertebral maturation stage")=(${stage.stage},99CVMWS,"Cervical stage ${stage.stage!.slice(2)}")>`,
    );
    expect(out).toContain(`="${stage.label}">`);
    // Every landmark: a POINT at the stored position (+0.5: SCOORD's origin is the pixel corner), selected from the
    // source image.
    for (const name of LANDMARK_NAMES) {
      const m = new RegExp(
        `SCOORD:\\(${name},99CVMWS,"[^"]*"\\)=\\(POINT,([-\\d.e]+)/([-\\d.e]+)\\)>\\s*\\n\\s*<selected from IMAGE:=\\(CR image,"${source.sopInstanceUid.replaceAll('.', '\\.')}"\\)>`,
      ).exec(out);
      expect(m, name).not.toBeNull();
      expect(Number(m![1])).toBeCloseTo(points[name]![0] + 0.5, 2);
      expect(Number(m![2])).toBeCloseTo(points[name]![1] + 0.5, 2);
    }
    // Every measurement, with its unit.
    const assessment = JSON.parse(
      (await import('node:zlib'))
        .inflateRawSync(
          (
            store.db
              .prepare('SELECT assessment_deflated FROM stage_assessments WHERE set_ref = ?')
              .get(detail.latest!.versionId) as { assessment_deflated: Buffer }
          ).assessment_deflated,
        )
        .toString('utf8'),
    ) as { measurements: Measurements };
    const m = assessment.measurements;
    const nums = numbersOf(out);
    const lengthUnit = m.unit === 'mm' ? 'mm' : '{pixels}';
    const expected: Array<[string, number, string]> = [];
    for (const v of ['C2', 'C3', 'C4'] as const) {
      expected.push(
        [`${v}-CONC-DEPTH`, m[v].concavity.depth, lengthUnit],
        [`${v}-CONC-SHARE`, m[v].concavity.share * 100, '%'],
      );
    }
    for (const v of ['C3', 'C4'] as const) {
      const b = m[v].body;
      expected.push(
        [`${v}-ANT-H`, b.anteriorHeight, lengthUnit],
        [`${v}-POST-H`, b.posteriorHeight, lengthUnit],
        [`${v}-WIDTH`, b.width, lengthUnit],
        [`${v}-HEIGHT`, b.height, lengthUnit],
        [`${v}-WH-RATIO`, b.ratio, '{ratio}'],
        [`${v}-AP-RATIO`, b.heightRatio, '{ratio}'],
      );
      expect(out).toContain(`<contains TEXT:(${v}-SHAPE,99CVMWS,"${v} body shape")="${b.shape}">`);
    }
    for (const [code, value, unit] of expected) {
      expect(nums.get(code), code).toBeDefined();
      expect(nums.get(code)![0], code).toBeCloseTo(value, 6);
      expect(nums.get(code)![1], code).toBe(unit);
    }
    expect(nums.size).toBe(expected.length);

    // The Secondary Capture: dcmdump reads it, dcmtk renders exactly the page's pixels, and our decoder opens it.
    const scFile = await fetchFromOrthanc(orthanc, prepared.scUid!, work);
    // (The pixel data's line is left out: a failed match would print megabytes of it.)
    const sc = { out: dcmdump(scFile).out.replace(/^\(7fe0,0010\).*$/m, '(7fe0,0010) pixel data') };
    expect(sc.out).toMatch(/\(0008,0016\) UI =SecondaryCaptureImageStorage/);
    expect(sc.out).toMatch(/\(0002,0010\) UI =DeflatedLittleEndianExplicit/);
    expect(sc.out).toMatch(/\(0028,0004\) CS \[RGB\]/);
    expect(sc.out).toMatch(/\(0028,0010\) US 1754/);
    expect(sc.out).toMatch(/\(0028,0011\) US 1240/);
    expect(sc.out).toContain(`(0020,000d) UI [${source.studyInstanceUid}]`);
    expect(sc.out).toContain(source.sopInstanceUid);
    const shown = dcm2pnm(scFile);
    expect([shown.width, shown.height, shown.channels]).toEqual([1240, 1754, 3]);
    const page = decode(pagePng);
    let differing = 0;
    for (let i = 0; i < 1240 * 1754; i++)
      for (let c = 0; c < 3; c++) if (shown.data[i * 3 + c] !== page.data[i * 4 + c]) differing++;
    expect(differing, 'samples of the SC that differ from the page').toBe(0);
    const opened = await decodeImageFile('sc.dcm', readFileSync(scFile));
    expect([opened.pixels.width, opened.pixels.height]).toEqual([1240, 1754]);
  });

  it('a re-approval sends a new SR that names the old one as predecessor; an unapproved result is UNVERIFIED', async () => {
    const imageId = (
      store.db
        .prepare('SELECT i.id FROM images i JOIN studies s ON s.id = i.study_ref WHERE s.study_instance_uid = ?')
        .get(uids.visit1) as { id: number }
    ).id;
    const repo = new PacsRepo(store);
    const old = repo.latestSr(imageId)!;
    // Nothing changed: nothing new is made.
    expect((await prepareResults(store, imageId, { author: 'tester', appVersion: '0.1.0' })).unchanged).toBe(true);
    store.setReviewStatus(imageId, 'in-progress', 'Dr Reviewer');
    const latest = store.loadStudy(imageId).latest!;
    const moved = { ...latest.points, C3m: [latest.points.C3m![0], latest.points.C3m![1] - 3] as const };
    store.addVersion(imageId, {
      kind: 'edit',
      points: moved,
      author: 'Dr Reviewer',
      baseVersionId: latest.versionId,
      moved: ['C3m'],
    });
    store.setReviewStatus(imageId, 'approved', 'Dr Second');
    const again = await prepareResults(store, imageId, {
      author: 'tester',
      appVersion: '0.1.0',
    });
    expect(again.unchanged).toBe(false);
    expect(again.predecessorUid).toBe(old.sop_instance_uid);
    // The page the app drew shows the old landmarks: it is not sent as the new result's SC.
    expect(again.scMissing).toMatch(/the report page the app drew shows an earlier landmark version/);
    expect((await sendOutbox(store, client, { author: 'tester' })).sent.map((x) => x.kind)).toEqual(['sr']);
    const file = await fetchFromOrthanc(orthanc, again.srUid, work);
    const dump = dcmdump(file).out;
    expect(dump).toMatch(/\(0040,a360\) SQ/);
    expect(dump).toContain(`(0008,1155) UI [${old.sop_instance_uid}]`);
    const oldSeries = readSourceImage('old', repo.dicomOf(old.id)).seriesInstanceUid;
    expect(readSourceImage('new', readFileSync(file)).seriesInstanceUid).toBe(oldSeries);
    expect(dsrdump(file).out).toContain('Dr Second');

    // The second visit, analysed but not approved.
    const other = (
      store.db
        .prepare('SELECT i.id FROM images i JOIN studies s ON s.id = i.study_ref WHERE s.study_instance_uid = ?')
        .get(uids.visit2) as { id: number }
    ).id;
    expect((await analysisHandlers(ctx()).analyzeImage({ imageId: other })).ok).toBe(true);
    if (!store.loadStudy(other).latest)
      store.addVersion(other, { kind: 'manual', points: annotatedPoints(), author: 'tester', baseVersionId: null });
    const unverified = await prepareResults(store, other, {
      author: 'tester',
      appVersion: '0.1.0',
    });
    expect(unverified.verified).toBe(false);
    const srFile = path.join(work, 'unverified.dcm');
    writeFileSync(srFile, repo.dicomOf(unverified.srId));
    const u = dsrdump(srFile);
    expect(u.out).toMatch(/Verification Flag\s+: UNVERIFIED/);
    expect(u.out).not.toMatch(/Verifying Observers/);
    expect(dcmdump(srFile).out).not.toMatch(/\(0040,a073\)/);
  });

  it('puts both visits of the patient on one timeline with their ages', () => {
    const t = patientTimeline(store, PATIENT.patientId);
    expect(t.visits.map((v) => [v.studyDate, v.ageYears])).toEqual([
      ['2017-03-10', 12.02],
      ['2018-09-20', 13.56],
    ]);
    expect(t.patient.name).toBe('Growth, Timeline');
    expect(t.peak.text.length).toBeGreaterThan(10);
  });
});
