/** `cvm restore`: replace the database with a checked backup, keeping the current one beside it. */
import { parseCommandLine } from '../args';
import { restoreDatabase } from '../../services/backup';
import { defaultDataDir } from '../../services/data-dir';
import { type Command, UsageError } from '../command';

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'replace the database with a checked backup (refused while the app uses the folder)',
  usage: 'cvm restore [--data-dir <dir>] <backup file>',
  async run(argv) {
    const { values, positionals } = parseCommandLine({
      args: argv,
      allowPositionals: true,
      options: { 'data-dir': { type: 'string' } },
    });
    const [backup] = positionals;
    if (positionals.length !== 1 || backup === undefined) throw new UsageError('give exactly one backup file');
    const result = await restoreDatabase(values['data-dir'] ?? defaultDataDir(), backup);
    console.log(
      `restored: schema ${result.schemaVersion}, ${result.images} image(s), ${result.landmarkSets} landmark version(s)`,
    );
    if (result.previousKeptAt) console.log(`the replaced database was kept as ${result.previousKeptAt}`);
    if (result.missingImages.length > 0) {
      console.log(
        `warning: ${result.missingImages.length} image file(s) the backup refers to are not in the images folder, e.g. ${result.missingImages[0]}; restore images/ from a file backup`,
      );
    }
    return 0;
  },
};
