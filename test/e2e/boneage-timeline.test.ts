/**
 * Bone age beside the CVM stages on the patient's growth chart, in Chromium through the real stack: a lateral
 * cephalogram (ISBI 001) and a hand-wrist radiograph (RSNA sample 7040, wrapped as DICOM with dcmtk) of the same
 * patient at two visits; the cephalogram is analysed, the hand gets its bone age (sex from the DICOM header),
 * and the hand's study view shows both visits: the stage, and the bone age with its interval. A cephalogram the
 * radiograph-kind model takes for a hand gets no bone age, and the panel says why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { cephalogramOnCanvasDicom } from '../misjudged-cephalogram';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';
import { makeVisit } from '../pacs/fixtures';
import { HAS_CHROMIUM, screenshotPath, sessionPerSuite } from './harness';
import { importAndOpen, landmarks } from './study-page';

const HAS_DCMTK = existsSync('/usr/bin/img2dcm') && existsSync('/usr/bin/dcmodify');

/** A grey PNG as a 24-bit BMP (img2dcm reads JPEG and BMP only). */
function pngToBmp(png: string, bmp: string): void {
  const img = decode(readFileSync(png));
  const { width: w, height: h, channels } = img;
  const stride = Math.ceil((w * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * h);
  out.write('BM', 0);
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(w, 18);
  out.writeInt32LE(h, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(stride * h, 34);
  const max = img.depth === 16 ? 65535 : 255;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = Math.round((Number(img.data[(y * w + x) * channels]) * 255) / max);
      const o = 54 + (h - 1 - y) * stride + x * 3;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    }
  writeFileSync(bmp, out);
}

describe.skipIf(!HAS_SHARED_DATA || !HAS_CHROMIUM || !HAS_DCMTK)('bone age on the growth timeline', () => {
  const current = sessionPerSuite();

  it(
    'shows the bone age of a hand-wrist visit beside the stage of a cephalogram visit',
    { timeout: 300_000 },
    async () => {
      const { page } = current();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'cvm-boneage-timeline-'));
      const patient = { patientId: 'BA-TIMELINE-1', patientName: 'Growth^Boneage', birthDate: '20090301' };
      const ceph = makeVisit({ ...patient, studyDate: '20210315' }, dir).file; // PatientSex M
      const bmp = path.join(dir, 'hand.bmp');
      const hand = path.join(dir, 'hand.dcm');
      pngToBmp(sharedPath('boneage', 'rsna-sample', '7040.png'), bmp); // a boy, bone age 156 months
      execFileSync('img2dcm', ['-q', '-i', 'BMP', bmp, hand], { stdio: 'pipe' });
      execFileSync(
        'dcmodify',
        [
          '-nb',
          '-gst',
          '-gse',
          '-gin',
          '-i',
          '(0010,0040)=M',
          '-m',
          `(0010,0020)=${patient.patientId}`,
          '-m',
          `(0010,0010)=${patient.patientName}`,
          '-i',
          `(0010,0030)=${patient.birthDate}`,
          '-m',
          '(0008,0020)=20220410',
          hand,
        ],
        { stdio: 'pipe' },
      );

      await importAndOpen(page, ceph, '0.1');
      await page.getByTestId('analyze').click();
      await expect.poll(async () => Object.keys(await landmarks(page)).length, { timeout: 150_000 }).toBe(13);
      await page.keyboard.press('Backspace');
      await importAndOpen(page, hand);
      await page.getByTestId('bone-age-panel').waitFor({ timeout: 120_000 });
      await expect(page.getByTestId('sex').textContent()).resolves.toMatch(/male \(DICOM PatientSex\)/);
      await page.getByTestId('estimate-bone-age').click();
      await expect
        .poll(() => page.getByTestId('bone-age').textContent(), { timeout: 60_000 })
        .toMatch(/^\d+ y \d+ mo$/);
      const visits = page.getByTestId('timeline-visits');
      await expect
        .poll(() => visits.textContent(), { timeout: 30_000 })
        .toMatch(/bone age \d+ y \d+ mo \(90% \d+ y \d+ mo – \d+ y \d+ mo\)/);
      await expect(visits.textContent()).resolves.toMatch(/CS\d/);
      await expect(page.getByTestId('bone-age-difference').textContent()).resolves.toMatch(
        /Chronological age 13 y 1 mo; bone age [+−]\d+ months = [+−]\d\.\d SD/,
      );
      await page.getByTestId('growth-timeline').scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath('boneage-timeline') });
      await page.getByTestId('growth-timeline').screenshot({ path: screenshotPath('boneage-timeline-panel') });
    },
  );
});

describe.skipIf(!HAS_SHARED_DATA || !HAS_CHROMIUM)('a cephalogram the kind model takes for a hand', () => {
  const current = sessionPerSuite();

  it('gets no bone age: the panel says the landmark model found its C2-C4 column', { timeout: 300_000 }, async () => {
    const { page } = current();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cvm-canvas-')), 'canvas.dcm');
    writeFileSync(file, await cephalogramOnCanvasDicom()); // PatientSex F, 0.2 mm pixels
    await importAndOpen(page, file);
    await page.getByTestId('bone-age-panel').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('radiograph-kind').textContent()).resolves.toMatch(/Recognised as a hand/);
    await page.getByTestId('estimate-bone-age').click();
    const alert = page.getByTestId('bone-age-panel').getByRole('alert');
    await alert.waitFor({ timeout: 120_000 });
    await expect(alert.textContent()).resolves.toMatch(
      /took it for a hand-wrist radiograph \(P hand \d+%\), but the landmark model found a plausible C2-C4 column/,
    );
    await expect(page.getByTestId('bone-age').textContent()).resolves.toBe('No bone age yet.');
    await page.getByTestId('bone-age-panel').screenshot({ path: screenshotPath('boneage-refused-cephalogram') });
  });
});
