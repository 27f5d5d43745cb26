/** `cvm timeline`: a patient's visits (age, stage, probabilities) and when the pubertal growth peak passed. */
import { parseCommandLine } from '../args';
import { mergePatients, patientTimeline, rejoinStudy, splitPatient, splitStudyOff } from '../../pacs/timeline';
import { defaultDataDir } from '../../services/data-dir';
import { closeStudyStores, storeFor } from '../../services/studies';
import { type Command, UsageError } from '../command';

export const timelineCommand: Command = {
  name: 'timeline',
  summary:
    "a patient's visits across time: age, stage, probabilities, and when the growth peak passed; merge or split patients",
  usage:
    'cvm timeline --patient <id> [--issuer <issuer>] [--data-dir <dir>] [--json] [--merge <other id> | --split | --split-study <image id> | --rejoin-study <image id>]',
  async run(argv) {
    const { values } = parseCommandLine({
      args: argv,
      options: {
        patient: { type: 'string' },
        issuer: { type: 'string' },
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        merge: { type: 'string' },
        split: { type: 'boolean' },
        'split-study': { type: 'string' },
        'rejoin-study': { type: 'string' },
      },
    });
    if (!values.patient) throw new UsageError('give --patient <Patient ID>');
    const store = storeFor({ dataDir: values['data-dir'] ?? defaultDataDir(), mode: 'cli' });
    try {
      if (values.merge) mergePatients(store, values.patient, values.merge, store.userName());
      if (values.split) splitPatient(store, values.patient, store.userName());
      const imageArg = (flag: string, v: string | undefined): number | null => {
        if (v === undefined) return null;
        if (!/^\d+$/.test(v)) throw new UsageError(`${flag} takes an image id (a number), not "${v}"`);
        return Number(v);
      };
      const splitId = imageArg('--split-study', values['split-study']);
      if (splitId !== null) splitStudyOff(store, splitId, store.userName());
      const rejoinId = imageArg('--rejoin-study', values['rejoin-study']);
      if (rejoinId !== null) rejoinStudy(store, rejoinId, store.userName());
      const t = patientTimeline(store, values.patient, values.issuer !== undefined ? { issuer: values.issuer } : {});
      if (values.json) {
        console.log(JSON.stringify(t));
        return 0;
      }
      console.log(
        `${t.patient.name ?? '-'} (ID ${t.patient.patientId}${t.issuer ? `, issuer ${t.issuer}` : ''}${t.merged.length ? `; merged: ${t.merged.map((m) => m.patientId).join(', ')}` : ''})`,
      );
      for (const v of t.visits) {
        const p = v.pPeakPassed === null ? '' : `  P(peak passed) ${(v.pPeakPassed * 100).toFixed(0)}%`;
        console.log(
          `  ${v.studyDate ?? '----------'}  ${v.ageYears !== null ? `${v.ageYears.toFixed(1)} y` : '   -  '}  ${(v.stageLabel ?? 'not analysed').padEnd(22)} ${v.reviewStatus.padEnd(11)} image ${v.imageId}${p}`,
        );
      }
      for (const x of t.splitOff)
        console.log(
          `  split off: ${x.studyDate ?? 'undated'} (image ${x.imageIds.join(', ')}) by ${x.by}; --rejoin-study ${x.imageIds[0]} undoes it`,
        );
      console.log(t.peak.text);
      for (const i of t.inconsistencies) console.log(`warning: ${i}`);
      if (t.otherIssuers.length)
        console.log(
          `note: the same Patient ID under other issuers (${t.otherIssuers.join(', ')}) is kept apart; --issuer shows it`,
        );
      return 0;
    } catch (error) {
      // A refusal of the store (unknown patient, a merge that would mix people): its message, exit 1.
      if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
        console.error(`cvm timeline: ${error.message}`);
        return 1;
      }
      throw error;
    } finally {
      closeStudyStores();
    }
  },
};
