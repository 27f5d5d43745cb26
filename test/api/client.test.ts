import { describe, expect, it } from 'vitest';
import { createApiClient } from '../../core/api/client';

describe('the API client', () => {
  it('turns a broken connection into an error value instead of a rejected promise', async () => {
    const api = createApiClient({
      invoke: () => Promise.reject(new Error('the connection to the workstation service closed')),
      subscribe: () => () => {},
    });
    const r = await api.listModels({});
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('transport');
      expect(r.error.message).toContain('the connection to the workstation service closed');
    }
  });

  it('passes the service result through unchanged', async () => {
    const api = createApiClient({ invoke: async () => ({ ok: true, value: 42 }), subscribe: () => () => {} });
    expect(await api.listModels({})).toEqual({ ok: true, value: 42 });
  });
});
