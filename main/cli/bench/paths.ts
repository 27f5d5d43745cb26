/**
 * Folders the benchmarks read, found from the repository root (APP_ROOT), so they are the same whether the
 * command runs from source (main/cli/bench/*.ts) or from the CLI bundle (dist/cli/*.mjs).
 */
import path from 'node:path';
import { APP_ROOT } from '../../services/version';

export const REPO_ROOT = APP_ROOT;
/** ../shared/data beside the checkout (absent on machines without the data). */
export const SHARED_DATA = path.resolve(APP_ROOT, '..', 'shared', 'data');
