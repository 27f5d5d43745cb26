/**
 * Shipped code is code the app runs: test support lives under test/, and what nothing uses is removed. An
 * export that a test imports is fine when the app uses it too (in its own file: the unit a test checks
 * directly); one that only tests run is not (test/layers/export-uses.ts finds both).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { exportUses, testOnlyCode, unusedCode, type ExportUse } from './export-uses';

/**
 * Known exceptions, each with its reason. `file:name`.
 */
const ALLOWED = new Map<string, string>([
  [
    'main/dicom/decoder-pool.ts:sharedDecoderPool',
    "a read-only view of the services' module-level decoder pool (its size and running workers), which a test " +
      'outside the module cannot reach otherwise; it starts nothing the app would not start',
  ],
  [
    'core/inference/letterbox.ts:imageToLetterbox',
    "the inverse of letterboxToImage, the round trip its test checks; core/inference is lm2's (#12) to keep or drop",
  ],
  [
    'core/inference/roi.ts:roiInsideFraction',
    "core/inference is lm2's (#12): left for its owner, listed in #17's report",
  ],
  [
    'main/cli/bench/orthanc.ts:bytesOf',
    "re-exported by test/pacs/orthanc.ts and used by nothing; main/cli/bench is perf2's (#14): listed in #17's report",
  ],
]);

const key = (u: ExportUse): string => `${u.file}:${u.name}`;

describe('exports of shipped code', () => {
  let uses: ExportUse[] = [];
  beforeAll(() => {
    uses = exportUses();
  }, 120_000);

  it('sees the whole repository: the app, the tests and the tools use what they import', () => {
    // a check that found nothing would pass whatever the code: these are known uses of each kind
    const find = (file: string, name: string) => uses.find((u) => u.file === file && u.name === name);
    expect(find('core/api/studies.ts', 'STUDY_SORT_FIELDS')?.users.get('shipped')).toContain('main/store/worklist.ts');
    expect(find('main/cli/stage-model-files.ts', 'stageManifestPath')?.users.get('tool')).toContain(
      'models/training/staging/fit.ts',
    );
    // a destructured dynamic import counts as a use
    expect(find('renderer/features/study/report.ts', 'printReport')?.users.get('shipped')).toContain(
      'renderer/features/study/useStudyCommands.ts',
    );
    expect(uses.length).toBeGreaterThan(500);
  });

  it('holds no code that only the tests run (test support belongs under test/)', () => {
    const found = testOnlyCode(uses)
      .filter((u) => !ALLOWED.has(key(u)))
      .map((u) => `${key(u)} (used by ${u.users.get('test')?.join(', ')})`);
    expect(found).toEqual([]);
  });

  it('holds no export that nothing uses', () => {
    const found = unusedCode(uses)
      .filter((u) => !ALLOWED.has(key(u)))
      .map(key);
    expect(found).toEqual([]);
  });

  it('lists only exceptions that still exist', () => {
    const present = new Set([...testOnlyCode(uses), ...unusedCode(uses)].map(key));
    expect([...ALLOWED.keys()].filter((k) => !present.has(k))).toEqual([]);
  });
});
