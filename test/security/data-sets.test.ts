/**
 * A shared data set, a backup or a command line made by someone else: malicious cvm13 files, FIFOs,
 * devices, symbolic-link loops, paths that escape, nonsense values, formula injection, a tampered backup.
 * Each case ends within seconds with its own message, and the database is unchanged and consistent.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import { walkInputs } from '../../main/cli/args';
import { exportCommand } from '../../main/cli/commands/export';
import { importCommand } from '../../main/cli/commands/import';
import { infoCommand } from '../../main/cli/commands/info';
import { findModels, modelDirs } from '../../main/inference/index';
import { isInsideAppUrl } from '../../main/ipc/sender';
import { backupDatabase, restoreDatabase } from '../../main/services/backup';
import { csvField, exportCsv, importCvm13 } from '../../main/services/exchange';
import { warmUp } from '../../main/services/lifecycle';
import { closeStudyStores, importFile } from '../../main/services/studies';
import { Store } from '../../main/store/store';
import { startBrowserMode } from '../../main/web/start';
import { MODEL_RUN, openStore, storeError, tempDir } from '../store/helpers';
import { makePng } from '../store/png';

/**
 * These tests guard against hangs (a FIFO or /dev/zero read forever), not speed: the bound is far above the
 * tens of milliseconds a refusal takes, so a loaded CI machine cannot make them flaky.
 */
const HANG_BOUND_MS = 10_000;

afterEach(() => vi.restoreAllMocks());

const points = (dx = 0): Record<string, [number, number]> =>
  Object.fromEntries(LANDMARK_NAMES.map((n, i) => [n, [40 + i * 12 + dx, 50 + i * 15]]));

/** W/set/annotations.json beside W/images/{a,b,c}.png: the default images root is W. */
function workspace(): { work: string; set: string; images: string; outside: string } {
  const work = tempDir('cvm-hostile-');
  const set = path.join(work, 'set');
  const images = path.join(work, 'images');
  mkdirSync(set);
  mkdirSync(images);
  writeFileSync(path.join(images, 'a.png'), makePng(300, 320, 1));
  writeFileSync(path.join(images, 'b.png'), makePng(300, 320, 2));
  writeFileSync(path.join(images, 'c.png'), makePng(300, 320, 3));
  const outside = tempDir('cvm-outside-');
  writeFileSync(path.join(outside, 'secret.png'), makePng(300, 320, 9));
  return { work, set, images, outside };
}

function writeSet(dir: string, images: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'annotations.json');
  writeFileSync(
    file,
    JSON.stringify({ schema: 'cvm13 v1', pixel_spacing_mm: [0.1, 0.1], landmarks: LANDMARK_NAMES, ...extra, images }),
  );
  return file;
}

/** Counts and consistency of everything an import could touch. */
function snapshot(store: Store): Record<string, unknown> {
  const count = (table: string): unknown => store.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get();
  return {
    images: count('images'),
    sets: count('landmark_sets'),
    audit: count('audit_log'),
    studies: count('studies'),
    integrity: store.db.pragma('integrity_check', { simple: true }),
    foreignKeys: store.db.pragma('foreign_key_check'),
    files: readdirSync(path.join(store.dataDir, 'images')).length,
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

const messages = (results: Awaited<ReturnType<typeof importCvm13>>): string[] =>
  results.map((r) => (r.ok ? `ok ${r.outcome}` : r.message));

describe('cvm13 image paths are confined', () => {
  it('refuses absolute paths, paths that leave the images root and links out of it, without telling whether they exist', async () => {
    const w = workspace();
    symlinkSync(path.join(w.outside, 'secret.png'), path.join(w.images, 'link-out.png'));
    const file = writeSet(w.set, {
      passwd: { image: '/etc/passwd', points: points() },
      shadow: { image: '../../../../../../../../etc/shadow', points: points() },
      outsideExisting: { image: path.relative(w.set, path.join(w.outside, 'secret.png')), points: points() },
      outsideMissing: { image: path.relative(w.set, path.join(w.outside, 'nothing-here.png')), points: points() },
      linkOut: { image: '../images/link-out.png', points: points() },
    });
    const store = openStore(path.join(w.work, 'data'));
    const before = snapshot(store);
    const { value: results, ms } = await timed(() => importCvm13(store, file, 'attacker'));
    expect(ms).toBeLessThan(HANG_BOUND_MS);
    const m = messages(results);
    expect(m[0]).toMatch(
      /image "passwd": "image" is an absolute path \(\/etc\/passwd\); only paths relative to the annotation file are read/,
    );
    expect(m[1]).toMatch(/image "shadow": "image" \(.*etc\/shadow\) points outside the images folder/);
    expect(m[4]).toMatch(/image "linkOut": "image" \(\.\.\/images\/link-out\.png\) points outside the images folder/);
    // The same words whether or not the outside file exists.
    const strip = (s: string): string => s.replace(/image "\w+": "image" \([^)]*\)/, '');
    expect(strip(m[2]!)).toBe(strip(m[3]!));
    expect(snapshot(store)).toEqual(before);
  });

  it('reads only regular image files: a folder, a FIFO, a text file, a link loop and /dev/zero are refused at once', async () => {
    const w = workspace();
    execFileSync('mkfifo', [path.join(w.images, 'pipe.png')]);
    writeFileSync(path.join(w.images, 'notes.png'), 'root:x:0:0:root:/root:/bin/bash\n');
    symlinkSync(path.join(w.images, 'loop-b.png'), path.join(w.images, 'loop-a.png'));
    symlinkSync(path.join(w.images, 'loop-a.png'), path.join(w.images, 'loop-b.png'));
    const file = writeSet(w.set, {
      folder: { image: '../images', points: points() },
      fifo: { image: '../images/pipe.png', points: points() },
      text: { image: '../images/notes.png', points: points() },
      loop: { image: '../images/loop-a.png', points: points() },
      zero: { image: '/dev/zero', points: points() },
      good: { image: '../images/a.png', points: points() },
    });
    const store = openStore(path.join(w.work, 'data'));
    // The refusals alone (no decode worker to start) take well under a second; the bound only catches a hang.
    const bad = path.join(w.set, 'bad.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { images: Record<string, unknown> };
    delete doc.images.good;
    writeFileSync(bad, JSON.stringify(doc));
    const { ms } = await timed(() => importCvm13(store, bad, 'attacker', { allowAbsolute: true }));
    expect(ms).toBeLessThan(HANG_BOUND_MS);
    const results = await importCvm13(store, file, 'attacker', { allowAbsolute: true });
    const m = messages(results);
    expect(m[0]).toMatch(/image "folder": \.\.\/images: a folder, not a regular file/);
    expect(m[1]).toMatch(/image "fifo": \.\.\/images\/pipe\.png: a named pipe \(FIFO\), not a regular file/);
    expect(m[2]).toMatch(/image "text": \.\.\/images\/notes\.png: not an image file \(PNG, JPEG, TIFF or DICOM\)/);
    expect(m[3]).toMatch(/image "loop": \.\.\/images\/loop-a\.png: the path is a loop of symbolic links/);
    expect(m[4]).toMatch(/image "zero": \/dev\/zero: a device, not a regular file/);
    expect(m[5]).toBe('ok added');
    expect(snapshot(store)).toMatchObject({ images: 1, sets: 1, integrity: 'ok', foreignKeys: [] });
  });

  it('absolute paths are read only when allowed, and --images-root moves the confinement', async () => {
    const w = workspace();
    const file = writeSet(w.set, { abs: { image: path.join(w.images, 'a.png'), points: points() } });
    const store = openStore(path.join(w.work, 'data'));
    expect(messages(await importCvm13(store, file, 'a'))[0]).toMatch(/absolute path/);
    expect(messages(await importCvm13(store, file, 'a', { allowAbsolute: true }))).toEqual(['ok added']);
    const rel = writeSet(w.set, { b: { image: '../images/b.png', points: points() } });
    expect(messages(await importCvm13(store, rel, 'a', { imagesRoot: w.set }))[0]).toMatch(
      /points outside the images folder/,
    );
  });
});

describe('cvm13 values are validated entry by entry', () => {
  it('reports each nonsense entry with its own message, skips it, and imports the valid ones after it', async () => {
    const w = workspace();
    const two = Object.fromEntries(Object.entries(points()).slice(0, 2));
    const file = writeSet(w.set, {
      abc: { image: '../images/a.png', points: points(), pixel_spacing_mm: ['abc', 'abc'] },
      negative: { image: '../images/a.png', points: points(), pixel_spacing_mm: [-5, -5] },
      huge: { image: '../images/a.png', points: points(), pixel_spacing_mm: [1e308, 1e308] },
      bools: { image: '../images/a.png', points: points(), pixel_spacing_mm: [true, true] },
      empty: { image: '../images/a.png', points: {} },
      twoPoints: { image: '../images/a.png', points: two },
      strings: { image: '../images/a.png', points: { ...points(), C2p: ['1', '2'] } },
      notObject: 42,
      tmp: { image: '../../../../../../tmp', points: points() },
      partial: { image: '../images/b.png', points: two, partial_reason: 'C3 and C4 hidden by the collar' },
      good: { image: '../images/c.png', points: points() },
    });
    const store = openStore(path.join(w.work, 'data'));
    const m = messages(await importCvm13(store, file, 'a'));
    expect(m).toEqual([
      expect.stringMatching(
        /"abc": "pixel_spacing_mm" must be \[row, column\] in mm as two numbers, got \["abc","abc"\]/,
      ),
      expect.stringMatching(/"negative": "pixel_spacing_mm" \[-5,-5\] is outside 0\.001 to 10 mm per pixel/),
      expect.stringMatching(/"huge": "pixel_spacing_mm" \[1e\+308,1e\+308\] is outside/),
      expect.stringMatching(
        /"bools": "pixel_spacing_mm" must be \[row, column\] in mm as two numbers, got \[true,true\]/,
      ),
      expect.stringMatching(/"empty": has no landmarks/),
      expect.stringMatching(/"twoPoints": has 2 of the 13 landmarks .*a partial set needs "partial_reason"/),
      expect.stringMatching(/"strings": C2p must be \[x, y\] with two finite numbers/),
      expect.stringMatching(/"notObject": the entry must be an object/),
      expect.stringMatching(/"tmp": .*points outside the images folder/),
      'ok added',
      'ok added',
    ]);
    expect(snapshot(store)).toMatchObject({ images: 2, sets: 2, integrity: 'ok', foreignKeys: [] });
    // No calibration came from the nonsense spacings.
    expect(
      store.db.prepare('SELECT COUNT(*) FROM images WHERE cal_row_mm IS NOT NULL AND cal_row_mm <> 0.1').pluck().get(),
    ).toBe(0);
  });

  it('refuses a file whose shared spacing is nonsense before changing anything', async () => {
    const w = workspace();
    const file = writeSet(
      w.set,
      { good: { image: '../images/a.png', points: points() } },
      { pixel_spacing_mm: [1e308, 1e308] },
    );
    const store = openStore(path.join(w.work, 'data'));
    const before = snapshot(store);
    await expect(importCvm13(store, file, 'a')).rejects.toThrow(
      /"pixel_spacing_mm" \[1e\+308,1e\+308\] is outside .*; nothing was imported/,
    );
    expect(snapshot(store)).toEqual(before);
  });

  it('re-importing, also after an import killed half-way, gives the same database as one complete run', async () => {
    const w = workspace();
    const entries = {
      a1: { image: '../images/a.png', points: points(0) },
      a2: { image: '../images/a.png', points: points(3) }, // a second annotator of the same image
      b: { image: '../images/b.png', points: points(1) },
      c: { image: '../images/c.png', points: points(2) },
    };
    const file = writeSet(w.set, entries);
    const once = openStore(path.join(w.work, 'once'));
    await importCvm13(once, file, 'a');
    const complete = snapshot(once);
    expect(complete).toMatchObject({ images: 3, sets: 4 });
    expect(messages(await importCvm13(once, file, 'a'))).toEqual([
      'ok unchanged',
      'ok unchanged',
      'ok unchanged',
      'ok unchanged',
    ]);
    expect(snapshot(once)).toMatchObject({ images: 3, sets: 4 });
    // Killed after two entries, then run again in full.
    const killed = openStore(path.join(w.work, 'killed'));
    const half = path.join(w.set, 'half.json');
    writeFileSync(
      half,
      JSON.stringify({ schema: 'cvm13 v1', pixel_spacing_mm: [0.1, 0.1], images: { a1: entries.a1, a2: entries.a2 } }),
    );
    await importCvm13(killed, half, 'a');
    await importCvm13(killed, file, 'a');
    await importCvm13(killed, file, 'a');
    expect(snapshot(killed)).toMatchObject({ images: complete.images, sets: complete.sets, files: complete.files });
  });
});

describe('backups and stored paths', () => {
  it('restore refuses a backup whose stored paths escape the data folder, and the current database stays', async () => {
    const w = workspace();
    const dataDir = path.join(w.work, 'data');
    const store = openStore(dataDir);
    const imported = await importFile(store, 'a.png', makePng(300, 320, 1), { author: 'a' });
    expect(imported.ok).toBe(true);
    const backup = path.join(w.work, 'backup.sqlite');
    await backupDatabase(dataDir, backup, store);
    const evil = new Database(backup);
    evil.prepare('UPDATE images SET stored_path = ?').run('../../../../../../etc/shadow');
    evil.close();
    store.close();
    await expect(restoreDatabase(dataDir, backup)).rejects.toThrow(
      /names 1 image file\(s\) outside the data folder \("\.\.\/\.\.\/.*etc\/shadow" leaves the data folder\); nothing was restored/,
    );
    const after = openStore(dataDir);
    expect(after.db.prepare('SELECT stored_path FROM images').pluck().all()).toEqual([
      expect.stringMatching(/^images\/[0-9a-f]{64}\.png$/),
    ]);
    expect(snapshot(after)).toMatchObject({ images: 1, integrity: 'ok' });
  });

  it('a database edited to point outside is never read or copied: export --copy-images refuses', async () => {
    const w = workspace();
    const dataDir = path.join(w.work, 'data');
    const store = openStore(dataDir);
    const imported = await importFile(store, 'a.png', makePng(300, 320, 1), { author: 'a' });
    if (!imported.ok) throw new Error('import failed');
    store.addVersion(imported.imageId, { kind: 'manual', points: points(), author: 'a' });
    for (const evilPath of ['../../../../../../etc/shadow', '/etc/shadow', 'images/../../x.png', 'other/x.png']) {
      store.db.prepare('UPDATE images SET stored_path = ?').run(evilPath);
      expect(storeError(() => store.absolutePath(evilPath)).message).toMatch(
        /names a stored image .* that (leaves the data folder|is an absolute path|is not inside)[^;]*; it was not read/,
      );
    }
    store.close();
    closeStudyStores();
    const err: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const out = path.join(w.work, 'out', 'export.json');
    mkdirSync(path.dirname(out));
    await expect(
      exportCommand.run(['--data-dir', dataDir, '--format', 'cvm13', '--out', out, '--copy-images']),
    ).rejects.toThrow(/not inside.*it was not read/);
    expect(existsSync(path.join(w.work, 'out', 'export-images', 'x.png'))).toBe(false);
    expect(existsSync(out)).toBe(false);
  });
});

describe('CSV export escapes formulas (OWASP CSV injection)', () => {
  it('text that a spreadsheet would run gets a leading apostrophe; numbers stay numbers', async () => {
    expect(csvField('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    for (const text of ['+1+2', '-2+3', '@SUM(A1)', '\t=1', '\r=1'])
      expect(csvField(text).replace(/^"/, '')).toMatch(/^'/);
    expect(csvField(-5)).toBe('-5');
    expect(csvField('plain')).toBe('plain');
    const w = workspace();
    const store = openStore(path.join(w.work, 'data'));
    const imported = await importFile(store, '=HYPERLINK("evil.example","open me").png', makePng(300, 320, 4), {
      author: 'a',
    });
    if (!imported.ok) throw new Error('import failed');
    store.addVersion(imported.imageId, { kind: 'manual', points: points(), author: 'a' });
    const { csv } = exportCsv(store, { approvedOnly: false });
    expect(csv).toContain(`"'=HYPERLINK(""evil.example"",""open me"").png"`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
  });
});

describe('command lines and inputs from a hostile folder', () => {
  it('a file named --data-dir=evil.dcm is never taken as an option; after -- it is a file', async () => {
    const w = workspace();
    const cwd = process.cwd();
    process.chdir(w.images);
    try {
      writeFileSync('--data-dir=evil.dcm', makePng(300, 320, 5));
      const dataDir = path.join(w.work, 'data');
      const out: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
      vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
      await expect(importCommand.run(['--data-dir=evil.dcm', 'a.png'])).rejects.toThrow(
        /"--data-dir=evil\.dcm" reads as an option but is also the name of a file here; put -- before file names/,
      );
      expect(existsSync('evil.dcm')).toBe(false);
      expect(await importCommand.run(['--data-dir', dataDir, '--', '--data-dir=evil.dcm', 'a.png'])).toBe(0);
      expect(out.filter((l) => /^imported: /.test(l))).toHaveLength(2);
      expect(existsSync('evil.dcm')).toBe(false);
    } finally {
      process.chdir(cwd);
      closeStudyStores();
    }
  });

  it('cvm info refuses a FIFO and /dev/zero at once instead of hanging or reading forever', async () => {
    const w = workspace();
    const fifo = path.join(w.images, 'pipe.dcm');
    execFileSync('mkfifo', [fifo]);
    const err: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const { value: fifoCode, ms: fifoMs } = await timed(() => infoCommand.run([fifo]));
    const { value: zeroCode, ms: zeroMs } = await timed(() => infoCommand.run(['/dev/zero']));
    expect([fifoCode, zeroCode]).toEqual([1, 1]);
    expect(fifoMs + zeroMs).toBeLessThan(HANG_BOUND_MS);
    expect(err).toEqual([
      expect.stringMatching(/pipe\.dcm: a named pipe \(FIFO\), not a regular file/),
      expect.stringMatching(/zero: a device, not a regular file/),
    ]);
  });

  it('an imported folder with a FIFO, a device link and a link loop finishes, listing what it skipped', async () => {
    const w = workspace();
    execFileSync('mkfifo', [path.join(w.images, 'pipe.png')]);
    symlinkSync('/dev/zero', path.join(w.images, 'zero.png'));
    symlinkSync(w.images, path.join(w.images, 'again')); // a folder that contains itself
    symlinkSync(path.join(w.images, 'nowhere'), path.join(w.images, 'broken.png'));
    const { value: walked, ms } = await timed(async () => walkInputs([w.images]));
    expect(ms).toBeLessThan(HANG_BOUND_MS);
    expect(walked.files.map((f) => path.basename(f))).toEqual(['a.png', 'b.png', 'c.png']);
    expect(walked.skipped.join('\n')).toMatch(/again: already visited/);
    expect(walked.skipped.join('\n')).toMatch(/pipe\.png: a named pipe \(FIFO\)/);
    expect(walked.skipped.join('\n')).toMatch(/zero\.png: a device or socket/);
    expect(walked.skipped.join('\n')).toMatch(/broken\.png: a broken link/);
  });
});

describe('state integrity', () => {
  it('a re-analysis that replaces approved landmarks, or a new calibration, returns the study to review (audited)', async () => {
    const w = workspace();
    const store = openStore(path.join(w.work, 'data'));
    const imported = await importFile(store, 'a.png', makePng(300, 320, 1), { author: 'a' });
    if (!imported.ok) throw new Error('import failed');
    const id = imported.imageId;
    store.recordModelRun(id, { ...MODEL_RUN, landmarks: points(), confidences: {} });
    store.setReviewStatus(id, 'approved', 'dr a');
    store.recordModelRun(id, { ...MODEL_RUN, landmarks: points(4), confidences: {} });
    expect(store.loadStudy(id).review.status).toBe('in-progress');
    expect(
      store
        .auditLog(id)
        .map((a) => a.summary)
        .join('\n'),
    ).toMatch(/approved -> in-progress: a re-analysis replaced the approved landmarks/);
    store.setReviewStatus(id, 'approved', 'dr a');
    store.setCalibration(id, { rowMm: 0.12, colMm: 0.12, method: 'entered', detail: 'ruler' }, 'dr a');
    expect(store.loadStudy(id).review.status).toBe('in-progress');
    expect(
      store
        .auditLog(id)
        .map((a) => a.summary)
        .join('\n'),
    ).toMatch(/approved -> in-progress: the calibration changed/);
  });

  it('start-up survives a broken link in <data>/models, with a logged warning', () => {
    const w = workspace();
    const dataDir = path.join(w.work, 'data');
    mkdirSync(path.join(dataDir, 'models'), { recursive: true });
    symlinkSync(path.join(w.work, 'gone'), path.join(dataDir, 'models', 'broken-model'));
    const listing = findModels(modelDirs(dataDir));
    expect(listing.refused.map((r) => r.reason).join('\n')).toMatch(
      /broken-model cannot be read \(ENOENT: a broken link\?\); skipped/,
    );
    const logs: string[] = [];
    warmUp({ mode: 'cli', dataDir, appVersion: 't', emit: () => undefined }, (m) => logs.push(m));
    expect(logs.join('\n')).toMatch(/warning: model folder skipped: .*broken-model/);
  });

  it('browser mode holds the data-folder lock from the start, before any request', async () => {
    const w = workspace();
    const dataDir = path.join(w.work, 'data');
    const rendererDir = path.join(w.work, 'renderer');
    mkdirSync(rendererDir);
    writeFileSync(path.join(rendererDir, 'index.html'), '<html></html>');
    const server = await startBrowserMode({ port: 0, dataDir, rendererDir, appVersion: 't', warm: false });
    try {
      expect(storeError(() => Store.open(dataDir, { purpose: 'cvm command' })).message).toMatch(
        /is in use by another copy of CVM Workstation/,
      );
    } finally {
      await server.close();
    }
    Store.open(dataDir, { purpose: 'cvm command' }).close();
  });

  it('the IPC sender check compares whole path segments', () => {
    const app = 'file:///opt/cvm/dist/renderer';
    expect(isInsideAppUrl('file:///opt/cvm/dist/renderer/index.html', app)).toBe(true);
    expect(isInsideAppUrl('file:///opt/cvm/dist/renderer/assets/x.js', `${app}/`)).toBe(true);
    expect(isInsideAppUrl('file:///opt/cvm/dist/renderer-evil/index.html', app)).toBe(false);
    expect(isInsideAppUrl('file:///opt/cvm/dist/renderer', app)).toBe(false);
    expect(isInsideAppUrl('file:///opt/cvm/dist/renderer/%2e%2e/evil.html', app)).toBe(false);
    expect(isInsideAppUrl('file:///opt/cvm/dist/renderer/..%2fevil.html', app)).toBe(false);
    expect(isInsideAppUrl('http://opt/cvm/dist/renderer/index.html', app)).toBe(false);
    expect(isInsideAppUrl('not a url', app)).toBe(false);
  });
});
