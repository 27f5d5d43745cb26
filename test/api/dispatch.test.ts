import { describe, expect, it } from 'vitest';
import { ok } from '../../core/api/index';
import { createDispatcher, type Handlers } from '../../core/api/dispatch';

const handlers = {
  appInfo: async () => ok({ version: '1', mode: 'web' as const, dataDir: '/tmp' }),
  loadStudy: async () => {
    throw new Error('disk on fire');
  },
} as unknown as Handlers;

describe('the validating dispatcher', () => {
  const dispatch = createDispatcher(handlers);

  it('refuses an unknown method without calling anything', async () => {
    const r = await dispatch('deleteEverything', {});
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('refuses a payload that does not match the method schema, naming the field', async () => {
    const r = await dispatch('importFiles', { files: [{ name: 'a.dcm', bytes: 'not bytes' }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('importFiles.files[0].bytes must be binary data');
  });

  it('refuses unexpected extra fields', async () => {
    const r = await dispatch('appInfo', { admin: true });
    expect(r.ok).toBe(false);
  });

  it('turns an exception in a service into an error value', async () => {
    const r = await dispatch('loadStudy', { imageId: 3 });
    expect(r).toMatchObject({ ok: false, error: { code: 'internal' } });
    if (!r.ok) expect(r.error.message).toContain('disk on fire');
  });

  it('passes a valid request to its handler', async () => {
    expect(await dispatch('appInfo', {})).toEqual({ ok: true, value: { version: '1', mode: 'web', dataDir: '/tmp' } });
  });
});
