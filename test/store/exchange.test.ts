import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import { syntheticPoints } from '../../main/cli/bench/synthetic';
import { exportCsv, exportCvm13, importCvm13, type Cvm13File } from '../../main/services/exchange';
import { closeStudyStores, storeFor } from '../../main/services/studies';
import { HAS_SHARED_DATA, SKIP_NO_SHARED, sharedPath } from '../shared-data';
import { MODEL_RUN, addStudy, openStore, tempDir } from './helpers';
import { makePng } from './png';

afterEach(() => closeStudyStores());

const store = (dataDir: string) => storeFor({ dataDir, mode: 'cli' });

/** A cvm13 folder: PNG files and annotations.json pointing at them. */
function cvm13Folder(): string {
  const dir = tempDir('cvm13-');
  mkdirSync(path.join(dir, 'img'));
  const images: Cvm13File['images'] = {};
  for (let i = 0; i < 3; i++) {
    writeFileSync(path.join(dir, 'img', `${i}.png`), makePng(300, 320, i));
    const points = syntheticPoints(i === 1 ? 'CS1' : 'CS4', 100, 60, 1, () => Math.round(Math.random() * 1000) / 100);
    images[`case${i}`] = {
      image: `img/${i}.png`,
      points: points as never,
      filled_from_prediction: i === 2 ? ['C3la', 'C4m'] : [],
    };
  }
  const doc: Cvm13File = {
    schema: 'cvm13 v1',
    pixel_spacing_mm: [0.1, 0.1],
    image_size: [300, 320],
    landmarks: [...LANDMARK_NAMES],
    images,
  };
  writeFileSync(path.join(dir, 'annotations.json'), JSON.stringify(doc));
  return path.join(dir, 'annotations.json');
}

/** What must survive a round trip, keyed by image content. */
function essence(doc: Cvm13File, jsonFile: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of Object.values(doc.images)) {
    const sha =
      entry.sha256 ??
      createHash('sha256')
        .update(readFileSync(path.resolve(path.dirname(jsonFile), entry.image)))
        .digest('hex');
    out[sha] = { points: entry.points, filled: [...entry.filled_from_prediction].sort() };
  }
  return out;
}

function writeExport(dataDir: string, name: string, copyImages = false): { file: string; doc: Cvm13File } {
  const file = path.join(tempDir('export-'), name);
  const { document } = exportCvm13(store(dataDir), file, { approvedOnly: false, copyImages });
  writeFileSync(file, JSON.stringify(document, null, 1));
  return { file, doc: document };
}

describe('cvm13 export and import', () => {
  it('export -> import into a new data folder -> export gives the original landmarks and prediction flags', async () => {
    const original = cvm13Folder();
    const a = tempDir();
    const imported = await importCvm13(store(a), original, 'annotator');
    expect(imported.map((r) => r.ok && r.outcome)).toEqual(['added', 'added', 'added']);
    const first = writeExport(a, 'a.json', true);
    const b = tempDir();
    expect((await importCvm13(store(b), first.file, 'annotator')).every((r) => r.ok && r.outcome === 'added')).toBe(
      true,
    );
    const second = writeExport(b, 'b.json');
    const originalDoc = JSON.parse(readFileSync(original, 'utf8')) as Cvm13File;
    expect(essence(first.doc, first.file)).toEqual(essence(originalDoc, original));
    expect(essence(second.doc, second.file)).toEqual(essence(originalDoc, original));
    expect(second.doc.pixel_spacing_mm).toEqual([0.1, 0.1]);
    expect(second.doc.image_size).toEqual([300, 320]);
  });

  it('exported image paths are relative to the JSON file and lead to the same bytes', async () => {
    const a = tempDir();
    await importCvm13(store(a), cvm13Folder(), 'annotator');
    for (const copy of [false, true]) {
      const { file, doc } = writeExport(a, `out-${copy}.json`, copy);
      for (const entry of Object.values(doc.images)) {
        expect(path.isAbsolute(entry.image)).toBe(false);
        const bytes = readFileSync(path.resolve(path.dirname(file), entry.image));
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.sha256);
      }
    }
  });

  it('importing the same file twice adds nothing the second time', async () => {
    const file = cvm13Folder();
    const dataDir = tempDir();
    await importCvm13(store(dataDir), file, 'annotator');
    const again = await importCvm13(store(dataDir), file, 'annotator');
    expect(again.map((r) => r.ok && r.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(store(dataDir).db.prepare('SELECT COUNT(*) FROM landmark_sets').pluck().get()).toBe(3);
  });

  it('entries with a missing image or a point outside the image are reported by id, the others imported', async () => {
    const file = cvm13Folder();
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Cvm13File;
    const broken = {
      ...doc,
      images: {
        ...doc.images,
        gone: { image: 'img/nope.png', points: doc.images.case0!.points, filled_from_prediction: [] },
        far: { ...doc.images.case0!, points: { ...doc.images.case0!.points, C2p: [5000, 10] as [number, number] } },
      },
    };
    writeFileSync(file, JSON.stringify(broken));
    const results = await importCvm13(store(tempDir()), file, 'annotator');
    const failures = results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.message));
    expect(failures).toEqual([
      expect.stringMatching(/image "gone": img\/nope\.png: the image file does not exist/),
      expect.stringMatching(/image "far": C2p \(5000, 10\) lies outside the 300x320 image/),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(3);
  });

  it('approved-only exports only approved images', async () => {
    const dataDir = tempDir();
    const results = await importCvm13(store(dataDir), cvm13Folder(), 'annotator');
    const first = results[0]!;
    if (!first.ok) throw new Error('import failed');
    store(dataDir).setReviewStatus(first.imageId, 'approved', 'dr a');
    const { document } = exportCvm13(store(dataDir), path.join(tempDir(), 'x.json'), { approvedOnly: true });
    expect(Object.keys(document.images)).toEqual(['0']);
  });
});

describe('csv', () => {
  it('has one row per image with landmarks, the stage and the measurements, without patient identity by default', () => {
    const s = openStore(tempDir());
    for (let i = 0; i < 4; i++) {
      const id = addStudy(s, i);
      if (i < 3)
        s.recordModelRun(id, { ...MODEL_RUN, landmarks: syntheticPoints(i === 0 ? 'CS1' : 'CS4'), confidences: {} });
    }
    const { csv, count } = exportCsv(s, { approvedOnly: false });
    const [header, ...rows] = csv.trim().split('\n');
    const columns = header!.split(',');
    expect(count).toBe(3);
    expect(rows).toHaveLength(3);
    expect(columns).not.toContain('patient_name');
    expect(columns).toEqual(
      expect.arrayContaining(['stage', 'stage_label', 'C3.body.ratio', 'C2.concavity.share', 'unit']),
    );
    const stageColumn = columns.indexOf('stage');
    expect(rows.map((r) => r.split(',')[stageColumn])).toEqual(['CS1', 'CS4', 'CS4']);
    const withIds = exportCsv(s, { approvedOnly: false, withIdentifiers: true }).csv;
    expect(withIds.split('\n')[1]).toContain('Meier^Anna^0');
  });
});

describe.skipIf(!HAS_SHARED_DATA)(`round trip of the real annotations ${SKIP_NO_SHARED}`, () => {
  it('three annotated cephalograms survive import -> export -> import -> export unchanged', async () => {
    const real = JSON.parse(readFileSync(sharedPath('cvm13', 'annotations.json'), 'utf8')) as Cvm13File;
    const dir = tempDir('cvm13-real-');
    const picked = Object.entries(real.images)
      .slice(0, 3)
      .map(([id, entry]) => [
        id,
        {
          ...entry,
          image: path.relative(dir, path.resolve(sharedPath('cvm13'), entry.image)),
        },
      ]);
    const file = path.join(dir, 'subset.json');
    writeFileSync(file, JSON.stringify({ ...real, images: Object.fromEntries(picked) }));
    const a = tempDir();
    // The images live in ../shared, outside the default images root (the parent of the file's folder).
    expect((await importCvm13(store(a), file, 'annotator', { imagesRoot: sharedPath() })).every((r) => r.ok)).toBe(
      true,
    );
    const first = writeExport(a, 'a.json');
    const b = tempDir();
    await importCvm13(store(b), first.file, 'annotator');
    const second = writeExport(b, 'b.json');
    const subset = JSON.parse(readFileSync(file, 'utf8')) as Cvm13File;
    expect(essence(second.doc, second.file)).toEqual(essence(subset, file));
    expect(second.doc.pixel_spacing_mm).toEqual(real.pixel_spacing_mm);
    expect(second.doc.image_size).toEqual(real.image_size);
  });
});
