/**
 * One calibration path: the service computes the spacing with core/geometry/calibration from what the user
 * gave, checks the plausible range and the marked distance, and keeps the pixel shape of the file.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceContext } from '../../main/services/context';
import { closeStudyStores, importFile, storeFor, studyHandlers } from '../../main/services/studies';
import { REPO_ROOT } from '../shared-data';
import { makePng } from '../store/png';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cvm-calibration-'));
const ctx: ServiceContext = { mode: 'cli', dataDir, appVersion: 'test', emit: () => {} };
const handlers = studyHandlers(ctx);
afterAll(() => closeStudyStores());

async function importBytes(name: string, bytes: Uint8Array): Promise<number> {
  const r = await importFile(storeFor(ctx), name, bytes, { author: 'test' });
  if (!r.ok) throw new Error(r.error.message);
  return r.imageId;
}

describe('calibrating through the service', () => {
  it('a typed spacing on square pixels is stored as given, with what was done', async () => {
    const imageId = await importBytes('square.png', makePng(320, 400, 1));
    const r = await handlers.setCalibration({ imageId, calibration: { method: 'entered', spacingMm: 0.1 } });
    expect(r.ok && r.value.spacing).toMatchObject({ rowMm: 0.1, colMm: 0.1, source: 'entered' });
    expect(r.ok && r.value.calibration?.detail).toBe('entered 0.1 mm/px');
  });

  it('two marked points 10 mm apart give the spacing and record the points', async () => {
    const imageId = await importBytes('ruler.png', makePng(320, 400, 2));
    const r = await handlers.setCalibration({
      imageId,
      calibration: { method: 'two-points', a: { x: 10, y: 20 }, b: { x: 10, y: 145 }, knownMm: 10 },
    });
    expect(r.ok && r.value.spacing).toMatchObject({ rowMm: 0.08, colMm: 0.08, source: 'calibration' });
    expect(r.ok && r.value.calibration?.detail).toBe('10 mm between (10.0, 20.0) and (10.0, 145.0), 125.0 px');
  });

  it.each([
    ['an implausible typed spacing', { method: 'entered' as const, spacingMm: 5 }, /implausible for a radiograph/],
    [
      'points too close together',
      { method: 'two-points' as const, a: { x: 10, y: 10 }, b: { x: 20, y: 10 }, knownMm: 1 },
      /at least 50 px/,
    ],
    [
      'two points without a distance',
      { method: 'two-points' as const, a: { x: 10, y: 10 }, b: { x: 200, y: 10 } },
      /known distance/,
    ],
    ['a typed method without a value', { method: 'entered' as const }, /pixel spacing/],
  ])('%s is refused with the reason and changes nothing', async (_what, calibration, message) => {
    const imageId = await importBytes(
      `refused-${String(_what).length}.png`,
      makePng(320, 400, String(_what).length + 10),
    );
    const r = await handlers.setCalibration({ imageId, calibration });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(message);
    const detail = await handlers.loadStudy({ imageId });
    expect(detail.ok && detail.value.calibration).toBeNull();
  });

  it('keeps the non-square pixels a file declared instead of making them square', async () => {
    // PixelSpacing 0.1 (row) \ 0.12 (column): rows are 0.833 of a column.
    const bytes = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'dicom', 'pixel-spacing-first.dcm'));
    const imageId = await importBytes('non-square.dcm', bytes);
    const r = await handlers.setCalibration({ imageId, calibration: { method: 'entered', spacingMm: 0.24 } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spacing?.colMm).toBeCloseTo(0.24, 9);
    expect(r.value.spacing?.rowMm).toBeCloseTo(0.2, 9);
    expect(r.value.calibration?.detail).toMatch(/non-square pixels kept/);
  });

  it('clearing returns to the file spacing', async () => {
    const bytes = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'dicom', 'pixel-spacing-first.dcm'));
    const imageId = await importBytes('cleared.dcm', bytes);
    await handlers.setCalibration({ imageId, calibration: { method: 'entered', spacingMm: 0.3 } });
    const r = await handlers.setCalibration({ imageId, calibration: null });
    expect(r.ok && r.value.spacing).toMatchObject({ rowMm: 0.1, colMm: 0.12, source: 'PixelSpacing' });
  });
});
