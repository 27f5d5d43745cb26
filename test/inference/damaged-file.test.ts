/**
 * A file whose decoder reported damaged data (here a cephalogram JPEG cut short, as an interrupted copy or
 * download leaves it): the result names the damage and never says "ok", through the shipped model.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatResult } from '../../main/cli/commands/analyze';
import { decodeImageFile } from '../../main/dicom/index';
import { analyzeOpened, enteredSpacing, InferenceEngine, verifyModel } from '../../main/inference/index';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const MODEL = path.join(REPO_ROOT, 'models', 'cvm13-unet');
const HAS_MODEL = existsSync(path.join(MODEL, 'manifest.json'));

describe.skipIf(!HAS_SHARED_DATA || !HAS_MODEL)('a damaged file', () => {
  let engine: InferenceEngine;
  beforeAll(async () => {
    engine = await InferenceEngine.start({ model: verifyModel(MODEL), providers: ['cpu'] });
  });
  afterAll(() => engine.close());
  const spacing = enteredSpacing(0.1, 'test');
  const isbi003 = (): Buffer => readFileSync(sharedPath('isbi2015', 'images', '003.jpg'));

  it('whole, the same film has no such problem (the control)', async () => {
    const r = await analyzeOpened(engine, await decodeImageFile('003.jpg', isbi003()), { spacing });
    expect(r.prediction.quality.problems.join(' ')).not.toMatch(/damaged/);
    expect(r.prediction.quality.verdict).toBe('ok');
    expect(r.fileWarnings).toBeUndefined();
  });

  it('cut short below the vertebrae: landmarks, but "check" with the damage named', async () => {
    const bytes = isbi003();
    const cut = bytes.subarray(0, Math.round(bytes.length * 0.88));
    const r = await analyzeOpened(engine, await decodeImageFile('003-cut.jpg', cut), { spacing });
    expect(r.prediction.recognition.lateralCephalogram).toBe(true);
    expect(r.prediction.quality.verdict).toBe('uncertain');
    expect(r.stageCertain).toBe(false);
    expect(r.summary).toMatch(/The file is damaged: 003-cut\.jpg: the JPEG data is damaged .*truncated file\?/);
    // The decoder's warning travels with the result, and `cvm analyze` prints it above the result line.
    expect(r.fileWarnings?.[0]).toMatch(/^003-cut\.jpg: the JPEG data is damaged/);
    const lines = formatResult('003-cut.jpg', r).split('\n');
    const warning = lines.findIndex((l) => l.startsWith('  warning     003-cut.jpg: the JPEG data is damaged'));
    expect(warning).toBeGreaterThan(0);
    expect(lines[warning + 1]).toMatch(/^  result {6}CS\d .*uncertain/);
  });

  it('cut short above the vertebrae: not found, and the summary says the file is damaged', async () => {
    const cut = isbi003().subarray(0, 100_000);
    const r = await analyzeOpened(engine, await decodeImageFile('003-top.jpg', cut), { spacing });
    expect(r.prediction.recognition.lateralCephalogram).toBe(false);
    expect(r.summary).toMatch(/^Not a lateral cephalogram .* The file is damaged: 003-top\.jpg/);
  });
});
