/**
 * Shipped code is code the app runs: test support lives under test/, and what nothing uses is removed. An
 * export that a test imports is fine when the app uses it too (in its own file: the unit a test checks
 * directly); one that only tests run is not (test/layers/export-uses.ts finds both).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { exportUses, testOnlyCode, unusedCode, type ExportUse, type UserKind } from './export-uses';

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
    'main/dicom/jpeg-grey.ts:jpegGreyCompilation',
    'a read-only view of how the module-level grey JPEG module was compiled (baseline or default), which a ' +
      'test outside the module cannot observe otherwise; the pixels alone are identical either way',
  ],
  [
    'main/inference/prestart.ts:prestartedWorkerStartup',
    "a read-only view of where the module-level prestarted worker's native start-up is, so that a test can end " +
      'its process inside that start-up (where the abort happened) instead of at guessed delays',
  ],
  [
    'main/dicom/jpeg-grey.ts:unloadJpegGreyModule',
    'drops the module-level grey JPEG module so that one test process can compare both compilations; the ' +
      'alternative is a second process per compilation',
  ],
]);

const key = (u: ExportUse): string => `${u.file}:${u.name}`;

describe('exports of shipped code', () => {
  let uses: ExportUse[] = [];
  beforeAll(() => {
    uses = exportUses();
  }, 300_000); // a type check of the whole repository: about 20 s of CPU

  it('sees the whole repository: the app, the tests and the tools use what they import', () => {
    // a check that found nothing would pass whatever the code: these are known uses of each kind
    const find = (file: string, name: string) => uses.find((u) => u.file === file && u.name === name);
    expect(find('main/store/worklist.ts', 'listStudiesQuery')?.users.get('shipped')).toContain(
      'main/store/study-queries.ts',
    );
    expect(find('core/api/studies.ts', 'STUDY_SORT_FIELDS')?.ownFileUses).toBeGreaterThan(0);
    expect(find('main/cli/stage-model-files.ts', 'stageManifestPath')?.users.get('tool')).toContain(
      'models/training/staging/fit.ts',
    );
    // a destructured dynamic import counts as a use
    expect(find('renderer/features/study/report.ts', 'printReport')?.users.get('shipped')).toContain(
      'renderer/features/study/useStudyCommands.ts',
    );
    expect(uses.length).toBeGreaterThan(500);
  });

  it('tells test-only and unused code from code the app runs', () => {
    const use = (own: number, users: [UserKind, string[]][]): ExportUse => ({
      file: 'main/x.ts',
      name: 'x',
      isType: false,
      ownFileUses: own,
      users: new Map(users),
    });
    const onlyTests = use(0, [['test', ['test/x.test.ts']]]);
    const testedUnit = use(1, [['test', ['test/x.test.ts']]]);
    const shipped = use(0, [
      ['shipped', ['main/y.ts']],
      ['test', ['test/x.test.ts']],
    ]);
    const nothing = use(0, []);
    const tool = use(0, [['tool', ['models/training/fit.ts']]]);
    const all = [onlyTests, testedUnit, shipped, nothing, tool];
    expect(testOnlyCode(all)).toEqual([onlyTests]);
    expect(unusedCode(all)).toEqual([nothing]);
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
