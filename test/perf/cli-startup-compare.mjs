// Two builds of the command line side by side: node test/perf/cli-startup-compare.mjs <rounds> info|analyze
// OLD_CVM=<other build's dist/cli/cvm.mjs> [NEW_CVM=...] DICOM=<a 10 MB DICOM for info> (see docs/performance.md).
import { mkdtempSync } from 'node:fs';
// Interleaved runs: old bundle (before this branch) vs new bundle vs dcmdump; wall and CPU (user+sys) medians.
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import os from 'node:os';
const OLD = process.env.OLD_CVM,
  NEW = process.env.NEW_CVM ?? new URL('../../dist/cli/cvm.mjs', import.meta.url).pathname;
if (!OLD) throw new Error('OLD_CVM=<dist/cli/cvm.mjs of the other build> is required');
const DCM = process.env.DICOM ?? '',
  JPG = new URL('../../../shared/data/isbi2015/images/001.jpg', import.meta.url).pathname;
const rounds = Number(process.argv[2] ?? 5),
  what = process.argv[3] ?? 'info';
const SIX = mkdtempSync(os.tmpdir() + '/cvm-compare-');
const six = Array.from({ length: 6 }, (_, i) => {
  const f = `${SIX}/ceph-${i}.jpg`;
  copyFileSync(JPG, f);
  return f;
});
function run(cmd, args) {
  const t = performance.now();
  const r = spawnSync('sh', ['-c', '"$0" "$@" >/dev/null 2>&1; code=$?; times; exit $code', cmd, ...args], {
    encoding: 'utf8',
  });
  const wall = performance.now() - t;
  const m = r.stdout
    .trim()
    .split('\n')
    .at(-1)
    .match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  const cpu = m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : NaN;
  if (r.status !== 0) console.error('failed', cmd, args.join(' '));
  return { wall, cpu };
}
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const res = {};
const loads = [];
const add = (k, r) => {
  (res[k] ??= []).push(r);
};
for (let i = 0; i < rounds + 1; i++) {
  const plan =
    what === 'info'
      ? [
          ['old info', process.execPath, [OLD, 'info', DCM]],
          ['new info', process.execPath, [NEW, 'info', DCM]],
          ['dcmdump', 'dcmdump', [DCM]],
          ['node -e 0', process.execPath, ['-e', '0']],
        ]
      : [
          ['old cold', process.execPath, [OLD, 'analyze', six[0], '--spacing', '0.1', '--json']],
          ['new cold', process.execPath, [NEW, 'analyze', six[0], '--spacing', '0.1', '--json']],
          ['old six', process.execPath, [OLD, 'analyze', ...six, '--spacing', '0.1', '--json']],
          ['new six', process.execPath, [NEW, 'analyze', ...six, '--spacing', '0.1', '--json']],
        ];
  for (const [k, c, a] of i % 2 ? plan.reverse() : plan) {
    const r = run(c, a);
    if (i > 0) add(k, r);
  }
  loads.push(os.loadavg()[0]);
}
const out = {};
for (const [k, rs] of Object.entries(res))
  out[k] = { wallMs: Math.round(med(rs.map((r) => r.wall))), cpuMs: Math.round(med(rs.map((r) => r.cpu))) };
if (what === 'info') {
  out.ratios = {
    oldWall: (out['old info'].wallMs / out.dcmdump.wallMs).toFixed(2),
    newWall: (out['new info'].wallMs / out.dcmdump.wallMs).toFixed(2),
    oldCpu: (out['old info'].cpuMs / out.dcmdump.cpuMs).toFixed(2),
    newCpu: (out['new info'].cpuMs / out.dcmdump.cpuMs).toFixed(2),
    nodeFloorWall: (out['node -e 0'].wallMs / out.dcmdump.wallMs).toFixed(2),
  };
} else {
  for (const v of ['old', 'new']) {
    const cold = out[`${v} cold`].wallMs,
      warm = (out[`${v} six`].wallMs - cold) / 5;
    out[`${v} ratio`] = { coldMs: cold, warmPerFileMs: Math.round(warm), coldOverWarm: (cold / warm).toFixed(2) };
  }
}
out.load = { min: Math.min(...loads).toFixed(1), max: Math.max(...loads).toFixed(1) };
out.rounds = rounds;
console.log(JSON.stringify(out, null, 1));
