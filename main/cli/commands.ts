import type { Command } from './command';
import { infoCommand } from './commands/info';
import { benchCommand } from './commands/bench';
import { stageCommand } from './commands/stage';
import { analyzeCommand } from './commands/analyze';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { importCommand } from './commands/import';
import { backupCommand } from './commands/backup';
import { restoreCommand } from './commands/restore';
import { pacsCommand } from './commands/pacs';
import { timelineCommand } from './commands/timeline';
import { boneageCommand } from './commands/boneage';

/** Every `cvm` sub-command; each lives in ./commands/<name>.ts. */
export const COMMANDS: readonly Command[] = [infoCommand, benchCommand, stageCommand, analyzeCommand, evalCommand,
  exportCommand, importCommand, backupCommand, restoreCommand, pacsCommand, timelineCommand, boneageCommand];
