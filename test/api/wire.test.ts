import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../core/api/wire';

describe('WebSocket message framing', () => {
  it('round-trips JSON with typed arrays of several kinds, keeping their contents and types', () => {
    const message = {
      id: 7,
      name: 'Müller^Zoë 日本',
      pixels: new Uint16Array([0, 1, 65535, 4242]),
      bytes: new Uint8Array([1, 2, 3]),
      nested: { f: new Float32Array([0.5, -1.25]) },
    };
    const back = decodeMessage(encodeMessage(message)) as typeof message;
    expect(back.id).toBe(7);
    expect(back.name).toBe('Müller^Zoë 日本');
    expect(back.pixels).toBeInstanceOf(Uint16Array);
    expect(Array.from(back.pixels)).toEqual([0, 1, 65535, 4242]);
    expect(Array.from(back.bytes)).toEqual([1, 2, 3]);
    expect(Array.from(back.nested.f)).toEqual([0.5, -1.25]);
  });

  it('sends a view of a larger buffer as just the viewed bytes', () => {
    const big = new Uint16Array([9, 8, 7, 6, 5]);
    const back = decodeMessage(encodeMessage({ part: big.subarray(1, 3) })) as { part: Uint16Array };
    expect(Array.from(back.part)).toEqual([8, 7]);
  });
});
