/**
 * The clinic's PACS in Chromium against a real Orthanc: configure and test the connection, find a patient,
 * pull two visits, see both on the growth timeline, analyse and approve, and see "sent" in the worklist
 * (the approved result stored on Orthanc as an SR and a Secondary Capture).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomWebClient } from '../../main/pacs/client';
import { HAS_SHARED_DATA } from '../shared-data';
import { DCMTK_SKIP, makeVisit } from '../pacs/fixtures';
import { ORTHANC_SKIP, startOrthanc, type Orthanc } from '../pacs/orthanc';
import { HAS_CHROMIUM, screenshotPath, sessionPerSuite } from './harness';
import { landmarks, stageText } from './study-page';

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
    await orthanc.upload(makeVisit({ ...visit, studyDate: '20180715', source: 'RG2_JLSN.dcm' }, work).bytes);
    await orthanc.upload(makeVisit({ patientId: 'OTHER-1', patientName: 'Someone^Else', birthDate: '20040101', studyDate: '20170101' }, work).bytes);
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
    await expect.poll(() => page.getByTestId('pacs-test-result').textContent(), { timeout: 30_000 }).toMatch(/^not-dicomweb: /);
    await page.getByTestId('pacs-url').fill(orthanc.dicomWeb);
    await page.getByTestId('pacs-test').click();
    await expect.poll(() => page.getByTestId('pacs-test-result').textContent(), { timeout: 30_000 }).toMatch(/^Connected: .* answers DICOMweb queries/);
  });

  it('finds the patient and pulls both visits with progress', async () => {
    const { page } = current();
    await page.getByTestId('pacs-patient-id').fill('CVM-E2E-7');
    await page.getByTestId('pacs-search').click();
    await expect.poll(() => page.locator('[data-testid^="pacs-row-"]').count(), { timeout: 30_000 }).toBe(2);
    await page.getByRole('checkbox', { name: 'Select all' }).check();
    await page.getByTestId('pacs-pull').click();
    await expect.poll(() => page.getByTestId('pacs-pull-done').textContent(), { timeout: 60_000 }).toMatch(/Pull finished: 2 retrieved, 0 already here, 0 skipped, 0 failed/);
    await page.screenshot({ path: screenshotPath('pacs-01-pulled') });
  });

  it('shows both visits on the growth timeline, then analyses and approves the later one', async () => {
    const { page } = current();
    await page.getByTestId('pacs-open-pulled').click();
    await page.getByTestId('growth-timeline').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('[data-testid="timeline-visits"] li').allTextContents(), { timeout: 30_000 })
      .toEqual([expect.stringMatching(/^2016-06-01\s*11\.4 y/), expect.stringMatching(/^2018-07-15\s*13\.5 y/)]);
    // Open the later visit from the timeline and analyse it.
    await page.locator('[data-testid="timeline-visits"] a', { hasText: '2018-07-15' }).click();
    await page.getByTestId('analyze').click();
    await expect.poll(async () => Object.keys(await landmarks(page)).length, { timeout: 120_000 }).toBe(13);
    await expect.poll(() => stageText(page), { timeout: 30_000 }).not.toBe('');
    await page.getByTestId('approve').click();
    await expect.poll(async () => `${await page.getByTestId('review-status').textContent()} / ${await page.getByTestId('save-state').textContent()}`, { timeout: 30_000 })
      .toMatch(/^Approved by/);
    await expect.poll(() => page.locator('[data-testid="timeline-visits"] li').nth(1).textContent(), { timeout: 30_000 }).toMatch(/approved/);
    await page.getByTestId('timeline-peak').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('pacs-02-timeline') });
  });

  it('shows "sent" in the worklist once the approved result is on the PACS', async () => {
    const { page } = current();
    await page.getByRole('button', { name: 'Worklist', exact: true }).click();
    await expect.poll(() => page.getByTestId('send-status').allTextContents(), { timeout: 60_000 }).toEqual(['sent']);
    await page.screenshot({ path: screenshotPath('pacs-03-sent') });
    const client = new DicomWebClient({ url: orthanc.dicomWeb, auth: { kind: 'none' } });
    const [later] = await client.searchStudies({ patientId: 'CVM-E2E-7', from: '2018-01-01' }, { offset: 0, limit: 10 });
    const instances = await client.studyInstances(later!.studyInstanceUid);
    expect(instances.map((i) => i.modality).sort()).toEqual(['CR', 'OT', 'SR']);
  });
});
