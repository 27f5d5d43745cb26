import type { Command } from './command';

/**
 * A command whose code is loaded only when it runs: `cvm info` then never loads ONNX Runtime, SQLite or
 * the codecs that `analyze` or `import` need (in the CLI bundle each lazy command is its own chunk).
 */
export interface LazyCommand {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/** Every `cvm` sub-command; each lives in ./commands/<name>.ts. An eager Command works here too. */
export const COMMANDS: ReadonlyArray<LazyCommand | Command> = [
  {
    name: 'info',
    summary: 'size, frames, spacing and its source, transfer syntax, metadata and windows of an image file',
    load: async () => (await import('./commands/info')).infoCommand,
  },
  {
    name: 'bench',
    summary: 'medians over repeated runs of decode, inference, staging, storage and start-up',
    load: async () => (await import('./commands/bench')).benchCommand,
  },
  {
    name: 'stage',
    summary: 'CVM stage, measurements and explanation for each image of a cvm13 annotation file',
    load: async () => (await import('./commands/stage')).stageCommand,
  },
  {
    name: 'analyze',
    summary: 'landmarks and CVM stage of image files with the ONNX model',
    load: async () => {
      // The inference worker starts loading ONNX Runtime now, beside this command's code and the model check.
      (await import('../services/prestart')).prestartLandmarkAnalysis();
      return (await import('./commands/analyze')).analyzeCommand;
    },
  },
  {
    name: 'eval',
    summary: 'landmark error and stage agreement of the model on a cvm13 annotation file',
    load: async () => {
      (await import('../services/prestart')).prestartLandmarkAnalysis();
      return (await import('./commands/eval')).evalCommand;
    },
  },
  {
    name: 'export',
    summary: 'write the current landmark sets as cvm13 JSON, or stages and measurements as CSV',
    load: async () => (await import('./commands/export')).exportCommand,
  },
  {
    name: 'import',
    summary: 'import cvm13 landmark files (.json) and image files or folders into the data folder',
    load: async () => (await import('./commands/import')).importCommand,
  },
  {
    name: 'backup',
    summary: 'write a consistent copy of the database (works while the app runs); images/ is not included',
    load: async () => (await import('./commands/backup')).backupCommand,
  },
  {
    name: 'pacs',
    summary:
      "the clinic's DICOMweb server: test the connection, query, pull studies, push results (SR + Secondary Capture)",
    load: async () => (await import('./commands/pacs')).pacsCommand,
  },
  {
    name: 'timeline',
    summary:
      "a patient's visits across time: age, stage, probabilities, and when the growth peak passed; merge or split patients",
    load: async () => (await import('./commands/timeline')).timelineCommand,
  },
  {
    name: 'boneage',
    summary: 'bone age of hand-wrist radiographs (recognises the kind first; needs the sex)',
    load: async () => (await import('./commands/boneage')).boneageCommand,
  },
  {
    name: 'restore',
    summary: 'replace the database with a checked backup (refused while the app uses the folder)',
    load: async () => (await import('./commands/restore')).restoreCommand,
  },
];

/** The command itself, loading its code when it is a lazy entry. */
export async function loadCommand(entry: LazyCommand | Command): Promise<Command> {
  return 'load' in entry ? entry.load() : entry;
}
