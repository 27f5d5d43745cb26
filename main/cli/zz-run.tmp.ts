import { analyzeCommand } from './commands/analyze';
process.exitCode = await analyzeCommand.run(process.argv.slice(2));
