import type { Command } from './command';
import { infoCommand } from './commands/info';
import { benchCommand } from './commands/bench';
import { stageCommand } from './commands/stage';
import { analyzeCommand } from './commands/analyze';

/** Every `cvm` sub-command; each lives in ./commands/<name>.ts. */
export const COMMANDS: readonly Command[] = [infoCommand, benchCommand, stageCommand, analyzeCommand];
