/**
 * `cvm pacs test|query|pull|push`: the clinic's DICOMweb server from a terminal. The connection comes from
 * --url (or the data folder's PACS setting), --user and --ca; the password from CVM_PACS_PASSWORD (or a
 * prompt on a terminal), a bearer token from CVM_PACS_TOKEN with --bearer. Secrets are never printed.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseCommandLine } from '../args';
import { DicomWebClient, type StudySummary } from '../../pacs/client';
import { PacsError, type PacsAuth } from '../../pacs/http';
import { sendOutbox } from '../../pacs/outbox';
import { pullStudies } from '../../pacs/pull';
import { PacsRepo } from '../../pacs/repo';
import { prepareResults } from '../../pacs/results';
import { readPacsSettings } from '../../pacs/settings';
import { analysisHandlers, closeInferenceEngines, landmarkSecondOpinion } from '../../services/analysis';
import { boneAgeHandlers, closeWholeImageModels } from '../../services/boneage';
import { pullClassifier } from '../../services/pacs';
import { defaultDataDir } from '../../services/data-dir';
import { appVersion } from '../../services/version';
import { closeStudyStores, fileImporter, storeFor } from '../../services/studies';
import { type Command, UsageError } from '../command';

const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  bearer: { type: 'boolean' },
  ca: { type: 'string' },
  timeout: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const muted = new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
  process.stderr.write(question);
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

interface ConnectionFlags {
  url?: string;
  user?: string;
  bearer?: boolean;
  ca?: string;
  timeout?: string;
  'data-dir'?: string;
}

async function clientFrom(values: ConnectionFlags, store: ReturnType<typeof storeFor> | null): Promise<DicomWebClient> {
  const saved = store ? readPacsSettings(store) : null;
  const url = values.url ?? (saved?.url || undefined);
  if (!url) throw new UsageError('give --url <DICOMweb root> (or configure the PACS in the app)');
  let auth: PacsAuth = { kind: 'none' };
  const user = values.user ?? (values.url === undefined && saved?.authKind === 'basic' ? saved.username : undefined);
  if (values.bearer || (values.url === undefined && saved?.authKind === 'bearer')) {
    const token = process.env.CVM_PACS_TOKEN;
    if (!token) throw new UsageError('--bearer needs the token in the environment variable CVM_PACS_TOKEN');
    auth = { kind: 'bearer', token };
  } else if (user) {
    let password = process.env.CVM_PACS_PASSWORD;
    if (password === undefined) {
      if (!process.stdin.isTTY)
        throw new UsageError(`--user ${user} needs the password in CVM_PACS_PASSWORD (no terminal to ask on)`);
      password = await promptHidden(`password for ${user} at ${url}: `);
    }
    auth = { kind: 'basic', username: user, password };
  }
  const timeoutMs = values.timeout ? Number(values.timeout) * 1000 : saved?.timeoutMs;
  if (timeoutMs !== undefined && !(timeoutMs >= 1000)) throw new UsageError('--timeout is in seconds, at least 1');
  return new DicomWebClient({
    url,
    auth,
    caFile: values.ca ?? (values.url === undefined ? saved?.caFile : null) ?? null,
    timeoutMs,
  });
}

function printStudies(rows: readonly StudySummary[]): void {
  for (const s of rows) {
    console.log(
      `${s.studyDate ?? '----------'}  ${(s.patientId ?? '-').padEnd(14)} ${(s.patientName ?? '-').padEnd(28)} ${s.modalities.join('/').padEnd(6)} ${String(s.instances ?? '?').padStart(4)} img  ${s.studyInstanceUid}`,
    );
  }
}

async function withErrors(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof PacsError) {
      console.error(`cvm pacs: ${error.message} [${error.kind}]`);
      return 1;
    }
    throw error;
  } finally {
    await closeInferenceEngines();
    await closeWholeImageModels();
    closeStudyStores();
  }
}

const sub: Record<string, { usage: string; run(argv: string[]): Promise<number> }> = {
  test: {
    usage: 'cvm pacs test --url <base> [--user <name>] [--bearer] [--ca <pem>]',
    run: (argv) =>
      withErrors(async () => {
        const { values } = parseCommandLine({ args: argv, options: CONNECTION_OPTIONS });
        const client = await clientFrom(
          values,
          values['data-dir'] ? storeFor({ dataDir: values['data-dir'], mode: 'cli' }) : null,
        );
        const r = await client.testConnection();
        if (values.json) console.log(JSON.stringify({ ok: true, ...r }));
        else console.log(`ok: ${r.url} answers DICOMweb queries (${r.ms} ms)`);
        return 0;
      }),
  },
  query: {
    usage:
      'cvm pacs query --url <base> [--patient <id>] [--name <text>] [--from <yyyy-mm-dd>] [--to <yyyy-mm-dd>] [--modality <CR>] [--limit <n>] [--json]',
    run: (argv) =>
      withErrors(async () => {
        const { values } = parseCommandLine({
          args: argv,
          options: {
            ...CONNECTION_OPTIONS,
            patient: { type: 'string' },
            name: { type: 'string' },
            from: { type: 'string' },
            to: { type: 'string' },
            modality: { type: 'string' },
            limit: { type: 'string' },
            'page-size': { type: 'string' },
          },
        });
        const client = await clientFrom(
          values,
          values['data-dir'] ? storeFor({ dataDir: values['data-dir'], mode: 'cli' }) : null,
        );
        const max = values.limit ? Number(values.limit) : 10_000;
        if (!(max >= 1)) throw new UsageError('--limit must be a positive number');
        const start = performance.now();
        const rows = await client.searchAllStudies(
          {
            patientId: values.patient,
            patientName: values.name,
            from: values.from,
            to: values.to,
            modality: values.modality,
          },
          { max, ...(values['page-size'] ? { pageSize: Number(values['page-size']) } : {}) },
        );
        if (values.json)
          console.log(JSON.stringify({ studies: rows, count: rows.length, ms: Math.round(performance.now() - start) }));
        else {
          printStudies(rows);
          console.log(
            `${rows.length} stud${rows.length === 1 ? 'y' : 'ies'} (${Math.round(performance.now() - start)} ms)`,
          );
        }
        return 0;
      }),
  },
  pull: {
    usage: 'cvm pacs pull --url <base> --study <StudyInstanceUID>... [--analyze] [--data-dir <dir>] [--json]',
    run: (argv) =>
      withErrors(async () => {
        const { values } = parseCommandLine({
          args: argv,
          options: { ...CONNECTION_OPTIONS, study: { type: 'string', multiple: true }, analyze: { type: 'boolean' } },
        });
        if (!values.study?.length) throw new UsageError('give at least one --study <StudyInstanceUID>');
        const dataDir = values['data-dir'] ?? defaultDataDir();
        const store = storeFor({ dataDir, mode: 'cli' });
        const client = await clientFrom(values, store);
        const controller = new AbortController();
        const onSigint = (): void => {
          controller.abort();
          process.stderr.write('\ncancelling the pull: instances already stored are kept whole\n');
        };
        process.once('SIGINT', onSigint);
        try {
          const report = await pullStudies(store, client, values.study, {
            importer: fileImporter,
            ...pullClassifier({ dataDir, mode: 'cli' }),
            ...landmarkSecondOpinion({ dataDir, emit: () => {} }),
            author: store.userName(),
            signal: controller.signal,
            onProgress: (p) => {
              if (!values.json && process.stderr.isTTY)
                process.stderr.write(`\r${p.done}/${p.total} instances, ${(p.bytes / 1e6).toFixed(1)} MB`.padEnd(60));
            },
          });
          if (!values.json && process.stderr.isTTY) process.stderr.write('\r'.padEnd(61) + '\r');
          const analyses: Array<{ imageId: number; ok: boolean; summary: string }> = [];
          if (values.analyze && !report.cancelled) {
            const ctx = { dataDir, mode: 'cli' as const, appVersion: appVersion(), emit: () => {} };
            const handlers = analysisHandlers(ctx);
            for (const s of report.studies) {
              for (const i of s.instances) {
                if (i.outcome !== 'retrieved' && i.outcome !== 'already-present') continue;
                if (i.outcome === 'already-present' && store.loadStudy(i.imageId).latest) continue;
                if (i.route === 'boneage') {
                  // A hand-wrist radiograph gets a bone age, never vertebral landmarks (and an image the landmark
                  // model finds a C2-C4 column in gets neither: see estimateBoneAgeOfImage).
                  const b = await boneAgeHandlers(
                    ctx,
                    landmarkSecondOpinion(ctx, 'as-stored').findsColumn,
                  ).estimateBoneAge({
                    imageId: i.imageId,
                  });
                  analyses.push(
                    b.ok
                      ? {
                          imageId: i.imageId,
                          ok: true,
                          summary: b.value.latest
                            ? `bone age ${(b.value.latest.months / 12).toFixed(1)} years (${b.value.latest.sex})`
                            : 'no bone age',
                        }
                      : { imageId: i.imageId, ok: false, summary: b.error.message },
                  );
                  continue;
                }
                const r = await handlers.analyzeImage({ imageId: i.imageId });
                analyses.push(
                  r.ok
                    ? { imageId: i.imageId, ok: true, summary: r.value.summary }
                    : { imageId: i.imageId, ok: false, summary: r.error.message },
                );
              }
            }
          }
          if (values.json) console.log(JSON.stringify({ ...report, analyses }));
          else {
            for (const s of report.studies) {
              console.log(`study ${s.studyUid}${s.error ? `: ${s.error}` : ''}`);
              for (const i of s.instances) {
                const what = 'imageId' in i ? `image ${i.imageId}${i.note ? ` (${i.note})` : ''}` : i.reason;
                console.log(`  ${i.outcome.padEnd(15)} ${i.sopInstanceUid}  ${what}`);
              }
            }
            for (const a of analyses) console.log(`  analysed image ${a.imageId}: ${a.summary}`);
            console.log(
              `${report.retrieved} retrieved, ${report.alreadyPresent} already present, ${report.skipped} skipped, ${report.failed} failed${report.cancelled ? ', cancelled' : ''} (${(report.bytes / 1e6).toFixed(1)} MB, ${report.ms} ms)`,
            );
          }
          return report.cancelled
            ? 130
            : report.failed > 0 || report.studies.some((s) => s.error) || analyses.some((a) => !a.ok)
              ? 1
              : 0;
        } finally {
          process.off('SIGINT', onSigint);
        }
      }),
  },
  push: {
    usage:
      'cvm pacs push --url <base> [--data-dir <dir>] [--study <image id | StudyInstanceUID> | --approved] [--json]',
    run: (argv) =>
      withErrors(async () => {
        const { values } = parseCommandLine({
          args: argv,
          options: { ...CONNECTION_OPTIONS, study: { type: 'string', multiple: true }, approved: { type: 'boolean' } },
        });
        if (values.study?.length && values.approved) throw new UsageError('give --study or --approved, not both');
        const store = storeFor({ dataDir: values['data-dir'] ?? defaultDataDir(), mode: 'cli' });
        const client = await clientFrom(values, store);
        const author = store.userName();
        let imageIds: number[] | undefined;
        if (values.study?.length) {
          imageIds = values.study.flatMap((s) => {
            if (/^\d+$/.test(s)) return [Number(s)];
            const ids = new PacsRepo(store).imagesOfStudy(s);
            if (ids.length === 0) throw new UsageError(`no stored study ${s}`);
            return ids;
          });
        } else if (values.approved) {
          imageIds = new PacsRepo(store).approvedDicomImages();
        }
        const prepared: Array<
          | {
              imageId: number;
              srUid: string;
              scUid: string | null;
              scMissing: string | null;
              verified: boolean;
              unchanged: boolean;
            }
          | { imageId: number; error: string }
        > = [];
        for (const id of imageIds ?? []) {
          try {
            const p = await prepareResults(store, id, { author, appVersion: appVersion() });
            prepared.push({
              imageId: id,
              srUid: p.srUid,
              scUid: p.scUid,
              scMissing: p.scMissing,
              verified: p.verified,
              unchanged: p.unchanged,
            });
          } catch (error) {
            prepared.push({ imageId: id, error: (error as Error).message });
          }
        }
        const report = await sendOutbox(store, client, { author, imageIds, ignoreBackoff: true });
        if (values.json) console.log(JSON.stringify({ prepared, ...report }));
        else {
          for (const p of prepared) {
            if ('error' in p) console.error(`image ${p.imageId}: ${p.error}`);
            else if (p.scMissing) console.error(`image ${p.imageId}: ${p.scMissing}`);
          }
          for (const s of report.sent)
            console.log(`sent ${s.kind.toUpperCase()} ${s.sopInstanceUid} (image ${s.imageId})`);
          for (const f of report.failed)
            console.error(
              `failed ${f.kind.toUpperCase()} ${f.sopInstanceUid} (image ${f.imageId}): ${f.error}${f.retryAt ? `; retry after ${f.retryAt}` : ''}`,
            );
          console.log(`${report.sent.length} sent, ${report.failed.length} failed (${report.ms} ms)`);
        }
        return report.failed.length > 0 || prepared.some((p) => 'error' in p) ? 1 : 0;
      }),
  },
};

export const pacsCommand: Command = {
  name: 'pacs',
  summary:
    "the clinic's DICOMweb server: test the connection, query, pull studies, push results (SR + Secondary Capture)",
  usage: Object.values(sub)
    .map((s) => s.usage)
    .join('\n       '),
  async run(argv) {
    const [name, ...rest] = argv;
    const command = name ? sub[name] : undefined;
    if (!command) throw new UsageError(`give one of: ${Object.keys(sub).join(', ')}`);
    return command.run(rest);
  },
};
