import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LANDMARK_NAMES } from '../../core/landmarks/index';
import { syntheticPoints } from '../../main/cli/bench/synthetic';
import { backupCommand } from '../../main/cli/commands/backup';
import { exportCommand } from '../../main/cli/commands/export';
import { importCommand } from '../../main/cli/commands/import';
import { restoreCommand } from '../../main/cli/commands/restore';
import { tempDir } from './helpers';
import { makePng } from './png';

afterEach(() => vi.restoreAllMocks());

function quiet(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err };
}

describe('cvm import, export, backup, restore', () => {
  it('imports a folder and a cvm13 file, exports both formats, backs up and restores', async () => {
    const work = tempDir('cvm-cli-');
    const dataDir = path.join(work, 'data');
    mkdirSync(path.join(work, 'scans'));
    writeFileSync(path.join(work, 'scans', 'a.png'), makePng(200, 200, 1));
    writeFileSync(path.join(work, 'scans', 'b.png'), makePng(200, 200, 2));
    writeFileSync(path.join(work, 'scans', 'readme.txt'), 'not an image');
    writeFileSync(
      path.join(work, 'labels.json'),
      JSON.stringify({
        schema: 'cvm13 v1',
        pixel_spacing_mm: [0.1, 0.1],
        image_size: [200, 200],
        landmarks: LANDMARK_NAMES,
        images: { a: { image: 'scans/a.png', points: syntheticPoints('CS4', 60, 20, 1), filled_from_prediction: [] } },
      }),
    );
    const log = quiet();
    expect(await importCommand.run(['--data-dir', dataDir, '--spacing', '0.1', path.join(work, 'scans')])).toBe(1);
    expect(log.err).toEqual([expect.stringContaining('readme.txt')]);
    expect(
      await importCommand.run(['--data-dir', dataDir, '--author', 'annotator', path.join(work, 'labels.json')]),
    ).toBe(0);
    expect(log.out).toContain('landmarks added: labels.json "a" (image 1)');

    const json = path.join(work, 'out', 'set.json');
    mkdirSync(path.dirname(json));
    expect(await exportCommand.run(['--data-dir', dataDir, '--format', 'cvm13', '--out', json, '--copy-images'])).toBe(
      0,
    );
    const doc = JSON.parse(readFileSync(json, 'utf8')) as {
      images: Record<string, { image: string; author: string; stage: string }>;
    };
    expect(Object.values(doc.images)).toEqual([expect.objectContaining({ author: 'annotator', stage: 'CS4' })]);
    expect(existsSync(path.resolve(path.dirname(json), doc.images.a!.image))).toBe(true);
    const csv = path.join(work, 'out', 'stages.csv');
    expect(await exportCommand.run(['--data-dir', dataDir, '--format', 'csv', '--out', csv])).toBe(0);
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(2);
    await expect(exportCommand.run(['--data-dir', dataDir, '--format', 'csv', '--out', csv])).rejects.toThrow(
      /exists; give --force/,
    );

    const backup = path.join(work, 'backup.sqlite');
    expect(await backupCommand.run(['--data-dir', dataDir, '--out', backup])).toBe(0);
    expect(await restoreCommand.run(['--data-dir', dataDir, backup])).toBe(0);
    expect(log.out.some((l) => l.startsWith('restored: schema'))).toBe(true);
  });
});
