/** `cvm import`: cvm13 landmark files and image files or folders into a data folder. */
import path from 'node:path';
import { parseCommandLine, walkInputs } from '../args';
import { defaultDataDir } from '../../services/data-dir';
import { importCvm13 } from '../../services/exchange';
import { closeStudyStores, importFiles, storeFor } from '../../services/studies';
import { type Command, UsageError } from '../command';
import { createProgress } from '../progress';

export const importCommand: Command = {
  name: 'import',
  summary: 'import cvm13 landmark files (.json) and image files or folders into the data folder',
  usage:
    'cvm import [--data-dir <dir>] [--author <name>] [--spacing <mm>] [--images-root <dir>] [--allow-absolute-paths] [--] <file.json | image | folder>...',
  async run(argv) {
    const { values, positionals } = parseCommandLine({
      args: argv,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        author: { type: 'string' },
        spacing: { type: 'string' },
        'images-root': { type: 'string' },
        'allow-absolute-paths': { type: 'boolean' },
      },
    });
    if (positionals.length === 0) throw new UsageError('give at least one .json, image file or folder');
    const spacingMm = values.spacing === undefined ? undefined : Number(values.spacing);
    if (spacingMm !== undefined && !(spacingMm > 0 && spacingMm <= 10))
      throw new UsageError('--spacing must be a pixel size in mm, e.g. 0.1');
    const store = storeFor({ dataDir: values['data-dir'] ?? defaultDataDir(), mode: 'cli' });
    try {
      const author = values.author ?? store.userName();
      let failures = 0;
      const json = positionals.filter((p) => p.toLowerCase().endsWith('.json'));
      const walked = walkInputs(positionals.filter((p) => !p.toLowerCase().endsWith('.json')));
      for (const why of walked.skipped) console.error(`skipped: ${why}`);
      const images = walked.files;
      if (images.length > 0) {
        // A JPEG 2000 image takes over a second to decode: a bar on a terminal, a line every few seconds otherwise.
        const progress = createProgress('import', images.length);
        const results = await importFiles(
          store,
          images.map((p) => ({ name: p, path: p })),
          { author, spacingMm },
          (p) => progress.update(p.done, path.basename(p.fileName)),
        );
        progress.finish();
        for (const r of results) {
          if (r.ok) {
            console.log(`${r.duplicate ? 'already stored' : 'imported'}: ${r.fileName} (image ${r.imageId})`);
            for (const w of r.warnings ?? []) console.error(`  warning: ${w}`);
          } else {
            failures++;
            console.error(`failed: ${r.error.message}`);
          }
        }
      }
      for (const file of json) {
        // cvm13 image paths stay under the images root (default: the parent of the file's folder).
        const results = await importCvm13(store, file, author, {
          ...(values['images-root'] ? { imagesRoot: values['images-root'] } : {}),
          allowAbsolute: values['allow-absolute-paths'] ?? false,
        });
        for (const r of results) {
          if (r.ok)
            console.log(
              `${r.outcome === 'added' ? 'landmarks added' : 'landmarks unchanged'}: ${path.basename(file)} "${r.id}" (image ${r.imageId}${r.imageImported ? ', image imported' : ''})`,
            );
          else {
            failures++;
            console.error(`failed: ${r.message}`);
          }
        }
      }
      console.log(failures === 0 ? 'done' : `done, ${failures} failure(s)`);
      return failures === 0 ? 0 : 1;
    } finally {
      closeStudyStores();
    }
  },
};
