/** Progress of long commands: a bar redrawn in place on a terminal, plain lines (not every step) otherwise. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress, formatBar } from '../../main/cli/progress';

afterEach(() => {
  vi.restoreAllMocks();
});

function captureStderr(): string[] {
  const out: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  return out;
}

describe('progress', () => {
  it('the bar shows done of total, filled in proportion, the time left and the current item', () => {
    expect(formatBar('import', 15, 30, 'RG2.dcm', 4200)).toBe(
      `import [${'#'.repeat(15)}${'.'.repeat(15)}] 15/30 5 s left RG2.dcm`,
    );
    expect(formatBar('import', 0, 0)).toBe(`import [${'.'.repeat(30)}] 0/0`);
  });

  it('on a terminal each step redraws one line, cleared at the end', () => {
    const out = captureStderr();
    const p = createProgress('import', 3, true);
    p.update(1, 'a.dcm');
    p.update(2, 'b.dcm');
    p.finish();
    expect(out.every((line) => line.startsWith('\r') && !line.includes('\n'))).toBe(true);
    expect(out[1]).toContain('2/3 b.dcm');
  });

  it('elsewhere it writes whole lines, not one per step, and always the last', () => {
    const out = captureStderr();
    const p = createProgress('import', 500, false);
    for (let i = 1; i <= 500; i++) p.update(i, `f${i}`);
    p.finish();
    expect(out.length).toBeLessThan(5);
    expect(out.every((line) => line.endsWith('\n') && !line.includes('\r'))).toBe(true);
    expect(out.at(-1)).toBe('import: 500/500 f500\n');
  });
});
