/** `cvm backup`: a consistent copy of the database, also while the app is running. */
import { parseCommandLine } from '../args';
import { backupDatabase } from '../../services/backup';
import { defaultDataDir } from '../../services/data-dir';
import { type Command, UsageError } from '../command';

export const backupCommand: Command = {
  name: 'backup',
  summary: 'write a consistent copy of the database (works while the app runs); images/ is not included',
  usage: 'cvm backup [--data-dir <dir>] --out <file>',
  async run(argv) {
    const { values } = parseCommandLine({
      args: argv,
      options: { 'data-dir': { type: 'string' }, out: { type: 'string' } },
    });
    if (!values.out) throw new UsageError('--out <file> is required');
    const check = await backupDatabase(values['data-dir'] ?? defaultDataDir(), values.out);
    console.log(
      `backup written to ${values.out}: schema ${check.schemaVersion}, ${check.images} image(s), ${check.landmarkSets} landmark version(s), integrity ok`,
    );
    return 0;
  },
};
