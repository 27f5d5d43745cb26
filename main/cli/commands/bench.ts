import { parseCommandLine } from '../args';
import { BENCH_AREAS } from '../bench/index';
import { type Command, type BenchFigure, UsageError } from '../command';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'medians over repeated runs of decode, inference, staging, storage and start-up',
  usage: 'cvm bench [--json] [--only <area>[,<area>]] [--quick] [--studies <n>]',
  async run(argv) {
    const { values } = parseCommandLine({
      args: argv,
      options: {
        json: { type: 'boolean' },
        only: { type: 'string' },
        quick: { type: 'boolean' },
        studies: { type: 'string' },
      },
    });
    const only = values.only?.split(',').map((a) => a.trim());
    const areas = only ? BENCH_AREAS.filter((a) => only.includes(a.area)) : BENCH_AREAS;
    if (only && areas.length !== only.length) {
      throw new UsageError(`unknown area in "${values.only}"; areas: ${BENCH_AREAS.map((a) => a.area).join(', ')}`);
    }
    const studies = values.studies === undefined ? undefined : Number(values.studies);
    if (studies !== undefined && (!Number.isInteger(studies) || studies < 1_000)) {
      throw new UsageError(`--studies must be a whole number of at least 1000, not "${values.studies}"`);
    }
    const figures: BenchFigure[] = [];
    for (const area of areas) {
      const rows = await area.run({ quick: values.quick ?? false, ...(studies === undefined ? {} : { studies }) });
      figures.push(...rows);
      if (!values.json) {
        for (const f of rows) {
          console.log(
            `${f.area.padEnd(10)} ${f.name.padEnd(44)} ${f.medianMs.toFixed(3).padStart(10)} ms  (median of ${f.runs}${f.note ? `; ${f.note}` : ''})`,
          );
        }
      }
    }
    if (values.json) console.log(JSON.stringify({ figures }, null, 2));
    return 0;
  },
};
