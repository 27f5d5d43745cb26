import { describe, expect, it } from 'vitest';
import { fail, ok, type Result } from '../../core/api/result';
import { createSaveQueue, type QueueState, type SaveItem } from '../../renderer/state/save-queue';

type L = Record<string, number>;

/** A store that keeps versions like the real one: a save on a stale base is a conflict. */
function fakeServer() {
  const versions: Array<{ id: number; landmarks: L }> = [];
  const failures: Array<'transport' | 'transport-after-store' | 'invalid'> = [];
  return {
    versions,
    failures,
    async save(item: SaveItem<L, string>, base: number | null): Promise<Result<{ versionId: number }>> {
      const failure = failures.shift();
      if (failure === 'transport') return fail('transport', 'the connection closed');
      if (failure === 'invalid') return fail('invalid-request', 'refused');
      const latest = versions.at(-1)?.id ?? null;
      if (base !== latest) return fail('conflict', 'stale base');
      const id = versions.length + 1;
      versions.push({ id, landmarks: { ...item.landmarks } });
      if (failure === 'transport-after-store') return fail('transport', 'closed before the answer');
      return ok({ versionId: id });
    },
    async latest(): Promise<Result<{ versionId: number; landmarks: L } | null>> {
      const v = versions.at(-1);
      return ok(v ? { versionId: v.id, landmarks: v.landmarks } : null);
    },
  };
}

function queueOn(server: ReturnType<typeof fakeServer>) {
  const states: QueueState[] = [];
  const waits: number[] = [];
  const q = createSaveQueue<L, string>(
    {
      save: (item, base) => server.save(item, base),
      latest: () => server.latest(),
      sameLandmarks: (a, b) => JSON.stringify(a) === JSON.stringify(b),
      onState: (s) => states.push(s),
      onDrained: () => {},
      wait: async (ms) => {
        waits.push(ms);
      },
    },
    null,
  );
  return { q, states, waits };
}

describe('the save queue of an open study', () => {
  it('stores every gesture as one version, in order', async () => {
    const server = fakeServer();
    const { q, states } = queueOn(server);
    q.push({ landmarks: { a: 1 }, moved: ['a'] });
    q.push({ landmarks: { a: 1, b: 2 }, moved: ['b'] });
    await q.idle();
    expect(server.versions.map((v) => v.landmarks)).toEqual([{ a: 1 }, { a: 1, b: 2 }]);
    expect(states.at(-1)).toEqual({ kind: 'saved' });
    expect(q.baseVersionId()).toBe(2);
  });

  it('retries a save lost with the connection, with growing delays, and keeps later edits behind it', async () => {
    const server = fakeServer();
    server.failures.push('transport', 'transport', 'transport');
    const { q, states, waits } = queueOn(server);
    q.push({ landmarks: { a: 1 }, moved: ['a'] });
    q.push({ landmarks: { a: 1, b: 2 }, moved: ['b'] });
    await q.idle();
    expect(waits).toEqual([500, 1000, 2000]);
    expect(states.some((s) => s.kind === 'retrying')).toBe(true);
    expect(server.versions.map((v) => v.landmarks)).toEqual([{ a: 1 }, { a: 1, b: 2 }]);
    expect(states.at(-1)).toEqual({ kind: 'saved' });
  });

  it('does not store twice a save whose answer was lost after it was stored', async () => {
    const server = fakeServer();
    server.failures.push('transport-after-store');
    const { q } = queueOn(server);
    q.push({ landmarks: { a: 1 }, moved: ['a'] });
    q.push({ landmarks: { a: 3 }, moved: ['a'] });
    await q.idle();
    expect(server.versions.map((v) => v.landmarks)).toEqual([{ a: 1 }, { a: 3 }]);
  });

  it('a refused save shows the error and the next edit, which contains it, is still stored', async () => {
    const server = fakeServer();
    server.failures.push('invalid');
    const { q, states } = queueOn(server);
    q.push({ landmarks: { a: 1 }, moved: ['a'] });
    q.push({ landmarks: { a: 1, b: 2 }, moved: ['b'] });
    await q.idle();
    expect(states).toContainEqual({ kind: 'error', message: 'refused' });
    expect(server.versions.map((v) => v.landmarks)).toEqual([{ a: 1, b: 2 }]);
    expect(states.at(-1)).toEqual({ kind: 'saved' });
  });

  it('a refused last save stays visible as an error', async () => {
    const server = fakeServer();
    server.failures.push('invalid');
    const { q, states } = queueOn(server);
    q.push({ landmarks: { a: 1 }, moved: ['a'] });
    await q.idle();
    expect(server.versions).toEqual([]);
    expect(states.at(-1)).toEqual({ kind: 'error', message: 'refused' });
  });

  it('an edit pushed while the queue drains is stored too', async () => {
    const server = fakeServer();
    const { q } = queueOn(server);
    q.push({ landmarks: { a: 1 }, moved: ['a'] });
    await Promise.resolve();
    q.push({ landmarks: { a: 2 }, moved: ['a'] });
    await q.idle();
    expect(server.versions).toHaveLength(2);
  });
});
