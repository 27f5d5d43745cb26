/**
 * The clinic's PACS in Chromium against a real Orthanc: configure and test the connection, find a patient,
 * pull two visits, see both on the growth timeline, analyse and approve, and see "sent" in the worklist
 * (the approved result stored on Orthanc as an SR and a Secondary Capture).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomWebClient } from '../../main/pacs/client';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { DCMTK_SKIP, dcm2pnm, makeVisit } from '../pacs/fixtures';
import { ORTHANC_SKIP, startOrthanc, type Orthanc } from '../pacs/orthanc';
import { HAS_CHROMIUM, SCREENSHOT_DIR, screenshotPath, sessionPerSuite } from './harness';
import { exportReport, placeByHand, stageText } from './study-page';
import { stageRecordOf } from '../../main/store/stage';
import { storeFor } from '../../main/services/studies';
import type { Page } from 'playwright-core';
import { decode, encode } from 'fast-png';

/** Approve the open study; where the app asks to confirm (flagged points), tick the check and confirm. */
async function approveConfirmingIfAsked(page: Page): Promise<void> {
  await page.getByTestId('approve').click();
  if (
    await page
      .getByTestId('confirm-approve')
      .isVisible()
      .catch(() => false)
  ) {
    await page.getByTestId('confirm-checked').check();
    await page.getByTestId('confirm-approve').click();
  }
}

/** Exports the open study's report; returns the PNG and PDF bytes (both kept beside the screenshots). */
async function exportReportFiles(page: Page, name: string): Promise<{ png: Buffer; pdf: Buffer }> {
  const pdfFile = path.join(SCREENSHOT_DIR, `${name}.pdf`);
  await exportReport(page, pdfFile, screenshotPath(name));
  return { png: readFileSync(screenshotPath(name)), pdf: readFileSync(pdfFile) };
}

/** Pixels of the report PNG within 14 levels of an RGB colour (the print colour of a chart series). */
function pixelsOf(png: Buffer, rgb: readonly [number, number, number]): number {
  const img = decode(png);
  const ch = img.channels;
  let n = 0;
  for (let i = 0; i < img.width * img.height; i++) {
    const d = img.data;
    if (
      Math.abs(d[i * ch]! - rgb[0]) <= 14 &&
      Math.abs(d[i * ch + 1]! - rgb[1]) <= 14 &&
      Math.abs(d[i * ch + 2]! - rgb[2]) <= 14
    )
      n++;
  }
  return n;
}
const STAGE_PRINT_BLUE = [0x1f, 0x5f, 0xa8] as const;
const pdfImages = (pdf: Buffer): number => pdf.toString('latin1').match(/\/Subtype\s*\/Image/g)?.length ?? 0;

const canRun = HAS_SHARED_DATA && HAS_CHROMIUM && !ORTHANC_SKIP && !DCMTK_SKIP;
if (!canRun) console.warn('PACS e2e skipped: needs ../shared/data, /usr/bin/chromium, Orthanc with DICOMweb and dcmtk');

describe.skipIf(!canRun)('the PACS in the workstation', () => {
  let orthanc: Orthanc;
  let work: string;
  const current = sessionPerSuite({ width: 1440, height: 900 });

  beforeAll(async () => {
    orthanc = await startOrthanc();
    work = mkdtempSync(path.join(os.tmpdir(), 'cvm-e2e-pacs-'));
    const visit = { patientId: 'CVM-E2E-7', patientName: 'Visits^Two', birthDate: '20050101' };
    await orthanc.upload(makeVisit({ ...visit, studyDate: '20160601' }, work).bytes);
    await orthanc.upload(makeVisit({ ...visit, studyDate: '20180715' }, work).bytes);
    // The same person filed under a mistyped ID at a third visit (merged by hand in the last test).
    await orthanc.upload(makeVisit({ ...visit, patientId: 'CVM-E2E-7B', studyDate: '20190301' }, work).bytes);
    await orthanc.upload(
      makeVisit(
        { patientId: 'OTHER-1', patientName: 'Someone^Else', birthDate: '20040101', studyDate: '20170101' },
        work,
      ).bytes,
    );
  }, 120_000);
  afterAll(async () => {
    await orthanc?.stop({ removeStorage: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('configures the server and tests the connection', async () => {
    const { page } = current();
    await page.getByTestId('nav-pacs').click();
    await page.getByTestId('pacs-url').fill(`${orthanc.url}/nothing-here`);
    await page.getByTestId('pacs-test').click();
    await expect
      .poll(() => page.getByTestId('pacs-test-result').textContent(), { timeout: 30_000 })
      .toMatch(/^not-dicomweb: /);
    await page.getByTestId('pacs-url').fill(orthanc.dicomWeb);
    await page.getByTestId('pacs-test').click();
    await expect
      .poll(() => page.getByTestId('pacs-test-result').textContent(), { timeout: 30_000 })
      .toMatch(/^Connected: .* answers DICOMweb queries/);
  });

  it('finds the patient and pulls both visits with progress', async () => {
    const { page } = current();
    await page.getByTestId('pacs-patient-id').fill('CVM-E2E-7');
    await page.getByTestId('pacs-search').click();
    await expect.poll(() => page.locator('[data-testid^="pacs-row-"]').count(), { timeout: 30_000 }).toBe(2);
    await page.getByRole('checkbox', { name: 'Select all' }).check();
    await page.getByTestId('pacs-pull').click();
    await expect
      .poll(() => page.getByTestId('pacs-pull-done').textContent(), { timeout: 60_000 })
      .toMatch(/Pull finished: 2 retrieved, 0 already here, 0 skipped, 0 failed/);
    await page.screenshot({ path: screenshotPath('pacs-01-pulled') });
  });

  it('shows both visits on the growth timeline; landmarks on each give "peak likely passed between"; approves the later one', async () => {
    const { page } = current();
    await page.getByTestId('pacs-open-pulled').click();
    await page.getByTestId('growth-timeline').waitFor({ timeout: 60_000 });
    await expect
      .poll(() => page.locator('[data-testid="timeline-visits"] li').allTextContents(), { timeout: 30_000 })
      .toEqual([expect.stringMatching(/^2016-06-01\s*11\.4 y/), expect.stringMatching(/^2018-07-15\s*13\.5 y/)]);
    // Each visit gets the landmarks of a real annotated spine (shared cephalograms at 0.1 mm/px, halved onto
    // these 0.2 mm/px radiographs so the vertebrae keep their real size): one before the growth peak
    // (CS1-CS3) on the earlier visit, one after it (CS4-CS6) on the later one.
    const spines = Object.values(
      (
        JSON.parse(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8')) as {
          images: Record<string, { points: Record<string, [number, number]> }>;
        }
      ).images,
    ).map((i) => i.points);
    const stageOf = (p: Record<string, [number, number]>): string | null =>
      stageRecordOf(p, { rowMm: 0.1, colMm: 0.1 }).summary.stage;
    // Clicks land on whole screen pixels (about 2 image pixels here): take spines whose stage survives that.
    const robust = (p: Record<string, [number, number]>): boolean => {
      const stage = stageOf(p);
      return (
        stage !== null &&
        [
          [2, 2],
          [-2, 2],
          [2, -2],
          [-2, -2],
          [4, 0],
          [0, 4],
          [-4, 0],
          [0, -4],
        ].every(
          ([dx, dy], k) =>
            stageOf(
              Object.fromEntries(
                Object.entries(p).map(([n, [x, y]], i) => [
                  n,
                  [x + (i % 2 ? dx! : -dx!) * (k % 3 ? 1 : -1), y + (i % 3 ? dy! : -dy!)] as [number, number],
                ]),
              ),
            ) === stage,
        )
      );
    };
    const before = spines.find((p) => ['CS1', 'CS2', 'CS3'].includes(stageOf(p) ?? '') && robust(p))!;
    const after = spines.find((p) => ['CS4', 'CS5', 'CS6'].includes(stageOf(p) ?? '') && robust(p))!;
    expect(before && after, 'annotated spines with a stage that survives pixel rounding').toBeTruthy();
    const halved = (p: Record<string, [number, number]>): Record<string, [number, number]> =>
      Object.fromEntries(Object.entries(p).map(([n, [x, y]]) => [n, [x / 2, y / 2] as [number, number]]));
    await page.locator('[data-testid="timeline-visits"] a', { hasText: '2016-06-01' }).click();
    await page.getByTestId('place').waitFor({ timeout: 60_000 });
    await placeByHand(page, halved(before));
    await expect.poll(() => stageText(page), { timeout: 30_000 }).toContain(stageOf(before)!);
    await page.locator('[data-testid="timeline-visits"] a', { hasText: '2018-07-15' }).click();
    await expect
      .poll(() => page.locator('[data-testid="timeline-visits"] li.current').textContent(), { timeout: 30_000 })
      .toMatch(/^2018-07-15/);
    await placeByHand(page, halved(after));
    await expect.poll(() => stageText(page), { timeout: 30_000 }).toContain(stageOf(after)!);
    await expect.poll(() => stageText(page), { timeout: 30_000 }).not.toBe('');
    await approveConfirmingIfAsked(page);
    await expect
      .poll(
        async () =>
          `${await page.getByTestId('review-status').textContent()} / ${await page
            .getByTestId('message')
            .textContent()
            .catch(() => '')}`,
        { timeout: 30_000 },
      )
      .toMatch(/^Approved by/);
    await expect
      .poll(() => page.locator('[data-testid="timeline-visits"] li').nth(1).textContent(), { timeout: 30_000 })
      .toMatch(/approved/);
    await expect
      .poll(() => page.getByTestId('timeline-peak').textContent(), { timeout: 30_000 })
      .toBe(`Peak likely passed between 11.4 and 13.5 years (${stageOf(before)} then ${stageOf(after)}).`);
    await page.getByTestId('timeline-peak').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('pacs-02-timeline') });
  });

  it('puts the growth chart and the peak timing in the one-page report (PNG and PDF)', async () => {
    const { page } = current();
    const { png, pdf } = await exportReportFiles(page, 'pacs-06-report-growth');
    expect(pdfImages(pdf), 'the C2-C4 crop and the growth chart').toBe(2);
    expect(pixelsOf(png, STAGE_PRINT_BLUE), 'the CVM stage series drawn in its print colour').toBeGreaterThan(300);
  });

  it('shows "sent" in the worklist once the approved result is on the PACS', async () => {
    const { page } = current();
    await page.getByRole('button', { name: 'Worklist', exact: true }).click();
    await expect.poll(() => page.getByTestId('send-status').allTextContents(), { timeout: 60_000 }).toEqual(['sent']);
    await page.screenshot({ path: screenshotPath('pacs-03-sent') });
    const client = new DicomWebClient({ url: orthanc.dicomWeb, auth: { kind: 'none' } });
    const [later] = await client.searchStudies(
      { patientId: 'CVM-E2E-7', from: '2018-01-01' },
      { offset: 0, limit: 10 },
    );
    const instances = await client.studyInstances(later!.studyInstanceUid);
    expect(instances.map((i) => i.modality).sort()).toEqual(['CR', 'OT', 'SR']);

    // The Secondary Capture is the report page itself: pulled back from Orthanc and rendered by dcmtk, it is
    // the PNG report pixel for pixel but for the footer's time of writing, growth chart included.
    const sc = instances.find((i) => i.modality === 'OT')!;
    const scFile = path.join(work, 'report-sc.dcm');
    writeFileSync(scFile, await client.retrieveInstance(sc));
    const shown = dcm2pnm(scFile);
    const report = decode(readFileSync(screenshotPath('pacs-06-report-growth')));
    expect([shown.width, shown.height, shown.channels]).toEqual([report.width, report.height, 3]);
    let differing = 0;
    for (let i = 0; i < report.width * report.height; i++) {
      const j = i * report.channels;
      if (
        shown.data[i * 3] !== report.data[j] ||
        shown.data[i * 3 + 1] !== report.data[j + 1] ||
        shown.data[i * 3 + 2] !== report.data[j + 2]
      )
        differing++;
    }
    expect(differing / (report.width * report.height), 'share of SC pixels unlike the PNG report').toBeLessThan(0.005);
    const scPng = encode({ width: shown.width, height: shown.height, data: shown.data, channels: 3 });
    writeFileSync(screenshotPath('pacs-08-secondary-capture'), scPng);
    expect(pixelsOf(Buffer.from(scPng), STAGE_PRINT_BLUE), 'the growth chart in the SC').toBeGreaterThan(300);
  });

  it('merges a mistyped patient ID into the same person, splits a study off and undoes both, with real clicks', async () => {
    const { page, dataDir } = current();
    await page.getByTestId('nav-pacs').click();
    await page.getByTestId('pacs-patient-id').fill('CVM-E2E-7B');
    await page.getByTestId('pacs-search').click();
    await expect.poll(() => page.locator('[data-testid^="pacs-row-"]').count(), { timeout: 30_000 }).toBe(1);
    await page.getByRole('checkbox', { name: 'Select all' }).check();
    await page.getByTestId('pacs-pull').click();
    await expect
      .poll(() => page.getByTestId('pacs-pull-done').textContent(), { timeout: 60_000 })
      .toMatch(/Pull finished: 1 retrieved/);
    await page.getByTestId('pacs-open-pulled').click();
    const visits = (p: Page): Promise<string[]> => p.locator('[data-testid="timeline-visits"] li a').allTextContents();
    await expect.poll(() => visits(page), { timeout: 60_000 }).toEqual(['2019-03-01']);

    // Merge: choose the other ID in the dialog, then confirm.
    await page.getByTestId('merge-patient').click();
    await page.getByTestId('merge-search').fill('e2e-7');
    await page.getByTestId('merge-pick-CVM-E2E-7').click();
    await expect
      .poll(() => page.getByTestId('identity-dialog').textContent(), { timeout: 30_000 })
      .toContain('as the same person as Visits, Two (ID CVM-E2E-7B)');
    await page.screenshot({ path: screenshotPath('pacs-04-merge-confirm') });
    await page.getByTestId('confirm-identity').click();
    await expect.poll(() => visits(page), { timeout: 30_000 }).toEqual(['2016-06-01', '2018-07-15', '2019-03-01']);
    await expect
      .poll(() => page.getByTestId('identity-notice').textContent(), { timeout: 30_000 })
      .toBe('Patient CVM-E2E-7 is now shown as the same person as CVM-E2E-7B.');
    await expect
      .poll(() => page.getByTestId('identity').textContent(), { timeout: 30_000 })
      .toContain('merged: CVM-E2E-7');
    await expect
      .poll(() => page.getByTestId('timeline-peak').textContent(), { timeout: 30_000 })
      .toContain('Peak likely passed between 11.4 and 13.5 years');

    // Split the first visit off: it leaves the timeline and can be rejoined; Cancel first changes nothing.
    const first = page.locator('[data-testid="timeline-visits"] li', { hasText: '2016-06-01' });
    await first.getByRole('button', { name: 'Not this patient' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.getByTestId('identity-dialog').count(), { timeout: 30_000 }).toBe(0);
    await expect.poll(() => visits(page)).toEqual(['2016-06-01', '2018-07-15', '2019-03-01']);
    await first.getByRole('button', { name: 'Not this patient' }).click();
    await expect
      .poll(() => page.getByTestId('identity-dialog').textContent(), { timeout: 30_000 })
      .toContain('The study of 2016-06-01 will no longer be shown');
    await page.getByTestId('confirm-identity').click();
    await expect.poll(() => visits(page), { timeout: 30_000 }).toEqual(['2018-07-15', '2019-03-01']);
    await expect
      .poll(() => page.getByTestId('split-off-study').textContent(), { timeout: 30_000 })
      .toContain('split off: 2016-06-01');
    await page.getByTestId('growth-timeline').screenshot({ path: screenshotPath('pacs-05-identity') });
    await page.getByTestId('split-off-study').getByRole('button', { name: 'Rejoin' }).click();
    await page.getByTestId('confirm-identity').click();
    await expect.poll(() => visits(page), { timeout: 30_000 }).toEqual(['2016-06-01', '2018-07-15', '2019-03-01']);

    // Split the merged patient off again: back to one visit.
    await page.getByTestId('split-patient-CVM-E2E-7').click();
    await expect
      .poll(() => page.getByTestId('identity-dialog').textContent(), { timeout: 30_000 })
      .toContain('will no longer be shown as the same person');
    await page.getByTestId('confirm-identity').click();
    await expect.poll(() => visits(page), { timeout: 30_000 }).toEqual(['2019-03-01']);
    // One visit: the report has no growth chart.
    const single = await exportReportFiles(page, 'pacs-07-report-one-visit');
    expect(pdfImages(single.pdf)).toBe(1);
    expect(pixelsOf(single.png, STAGE_PRINT_BLUE)).toBe(0);

    const audit = storeFor({ mode: 'web', dataDir })
      .db.prepare("SELECT action FROM audit_log WHERE action LIKE 'patient-%' OR action LIKE 'study-%' ORDER BY id")
      .pluck()
      .all();
    expect(audit).toEqual(['patient-merge', 'study-split', 'study-rejoin', 'patient-split']);
  });

  it("merges and splits from the PACS tab's list of local patients too, each confirmed, audit-logged and undone", async () => {
    const { page, dataDir } = current();
    await page.getByRole('button', { name: 'Worklist', exact: true }).click();
    await page.getByTestId('nav-pacs').click();
    await page.getByTestId('local-patients-open').click();
    await page.getByTestId('patients-search').fill('e2e-7');
    await expect
      .poll(() => page.locator('[data-testid^="patient-CVM-E2E-"]').allTextContents(), { timeout: 30_000 })
      .toEqual([
        expect.stringMatching(/^CVM-E2E-7Visits, Two2005-01-012Timeline/),
        expect.stringMatching(/^CVM-E2E-7BVisits, Two2005-01-011Timeline/),
      ]);
    await page.getByTestId('patient-timeline-CVM-E2E-7B').click();
    const panel = page.getByTestId('local-patients');
    const visits = (): Promise<string[]> => panel.locator('[data-testid="timeline-visits"] li a').allTextContents();
    const mergedInto = (id: string): Promise<string | null> =>
      page.getByTestId(`patient-${id}`).getByTestId('merged-into').textContent();
    await expect.poll(visits, { timeout: 30_000 }).toEqual(['2019-03-01']);

    // Merge: the other ID is chosen in the dialog, then confirmed.
    await panel.getByTestId('merge-patient').click();
    await page.getByTestId('merge-search').fill('CVM-E2E-7');
    await page.getByTestId('merge-pick-CVM-E2E-7').click();
    await expect
      .poll(() => page.getByTestId('identity-dialog').textContent(), { timeout: 30_000 })
      .toContain('as the same person as Visits, Two (ID CVM-E2E-7B)');
    await page.getByTestId('confirm-identity').click();
    await expect.poll(visits, { timeout: 30_000 }).toEqual(['2016-06-01', '2018-07-15', '2019-03-01']);
    await expect.poll(() => mergedInto('CVM-E2E-7'), { timeout: 30_000 }).toBe('CVM-E2E-7B');
    await page.getByTestId('local-patients').screenshot({ path: screenshotPath('pacs-09-patients-merged') });

    // Split a visit off, then rejoin it.
    const second = panel.locator('[data-testid="timeline-visits"] li', { hasText: '2018-07-15' });
    await second.getByRole('button', { name: 'Not this patient' }).click();
    await page.getByTestId('confirm-identity').click();
    await expect.poll(visits, { timeout: 30_000 }).toEqual(['2016-06-01', '2019-03-01']);
    await panel.getByTestId('split-off-study').getByRole('button', { name: 'Rejoin' }).click();
    await page.getByTestId('confirm-identity').click();
    await expect.poll(visits, { timeout: 30_000 }).toEqual(['2016-06-01', '2018-07-15', '2019-03-01']);

    // Undo the merge: each ID has its own timeline again.
    await panel.getByTestId('split-patient-CVM-E2E-7').click();
    await page.getByTestId('confirm-identity').click();
    await expect.poll(visits, { timeout: 30_000 }).toEqual(['2019-03-01']);
    await expect.poll(() => mergedInto('CVM-E2E-7'), { timeout: 30_000 }).toBe('');

    const audit = storeFor({ mode: 'web', dataDir })
      .db.prepare("SELECT action FROM audit_log WHERE action LIKE 'patient-%' OR action LIKE 'study-%' ORDER BY id")
      .pluck()
      .all();
    expect(audit.slice(4)).toEqual(['patient-merge', 'study-split', 'study-rejoin', 'patient-split']);
  });

  it('shows "send failed" in the worklist when the PACS is down at approval, and keeps the local result', async () => {
    const { page } = current();
    // The earlier visit, from the PACS tab's patient list.
    await page.getByTestId('patient-timeline-CVM-E2E-7').click();
    await page
      .getByTestId('local-patients')
      .locator('[data-testid="timeline-visits"] a', { hasText: '2016-06-01' })
      .click();
    await page.getByTestId('approve').waitFor({ timeout: 60_000 });
    await orthanc.stop();
    try {
      await approveConfirmingIfAsked(page);
      await expect
        .poll(() => page.getByTestId('review-status').textContent(), { timeout: 30_000 })
        .toMatch(/^Approved by/);
      await page.getByRole('button', { name: 'Worklist', exact: true }).click();
      const badges = page.getByTestId('send-status');
      await expect
        .poll(async () => (await badges.allTextContents()).sort(), { timeout: 60_000 })
        .toEqual(['send failed', 'sent']);
      const failed = badges.filter({ hasText: 'send failed' });
      expect(await failed.getAttribute('title')).toMatch(
        /refused the connection.*\(attempt 1; retried automatically\)/,
      );
      await page.screenshot({ path: screenshotPath('pacs-11-send-failed') });
      // The local result is untouched: still approved, with its landmarks.
      const store = storeFor({ mode: 'web', dataDir: current().dataDir });
      const approved = store.db
        .prepare(
          "SELECT COUNT(*) FROM images WHERE review_status = 'approved' AND latest_set_ref IS NOT NULL AND format = 'dicom'",
        )
        .pluck()
        .get();
      expect(approved).toBe(2);
    } finally {
      orthanc = await startOrthanc({ storageDir: orthanc.storageDir, port: orthanc.port });
    }
  });
});
