import type { BenchFigure } from '../command';
import { stagingBench } from './staging';
import { decodeBench } from './decode';
import { inferenceBench } from './inference';
import { storeBench } from './store';
import { startupBench } from './startup';
import { pacsBench } from './pacs';

/** One area of `cvm bench`; each lives in ./<area>.ts and is listed in BENCH_AREAS. */
export interface BenchArea {
  readonly area: string;
  run(options: { quick: boolean; studies?: number }): Promise<BenchFigure[]>;
}

export const BENCH_AREAS: readonly BenchArea[] = [
  stagingBench,
  decodeBench,
  inferenceBench,
  storeBench,
  startupBench,
  pacsBench,
];
