/** `cvm export`: landmark sets as cvm13 JSON (for training) or stages and measurements as CSV (for research). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseCommandLine } from '../args';
import { defaultDataDir } from '../../services/data-dir';
import { exportFromDataFolder } from '../../services/studies';
import { type Command, UsageError } from '../command';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write the current landmark sets as cvm13 JSON, or stages and measurements as CSV',
  usage:
    'cvm export [--data-dir <dir>] --format cvm13|csv --out <file> [--approved-only] [--copy-images] [--with-identifiers] [--force]',
  async run(argv) {
    const { values } = parseCommandLine({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        'approved-only': { type: 'boolean' },
        'copy-images': { type: 'boolean' },
        'with-identifiers': { type: 'boolean' },
        force: { type: 'boolean' },
      },
    });
    if (values.format !== 'cvm13' && values.format !== 'csv') throw new UsageError('--format must be cvm13 or csv');
    if (!values.out) throw new UsageError('--out <file> is required');
    const out = path.resolve(values.out);
    if (existsSync(out) && !values.force) throw new UsageError(`${out} exists; give --force to replace it`);
    // The app's export (main/services/studies.ts), read-only: works while the app runs on the same data folder.
    const format = values.format;
    const { count } = exportFromDataFolder(values['data-dir'] ?? defaultDataDir(), out, {
      format,
      approvedOnly: values['approved-only'] ?? false,
      copyImages: values['copy-images'] ?? false,
      withIdentifiers: values['with-identifiers'] ?? false,
    });
    if (format === 'cvm13')
      console.log(
        `wrote ${count} landmark set(s) to ${out}${values['copy-images'] ? ` with the images in ${path.parse(out).name}-images/` : ' (image paths point into the data folder)'}`,
      );
    else console.log(`wrote ${count} row(s) to ${out}`);
    return 0;
  },
};
