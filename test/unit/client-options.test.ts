import { describe, expect, it } from 'vitest';
import { BatonClient } from '../../src/client/baton-client.js';
import { MAX_CLIENT_ID_LENGTH } from '../../src/client/client-options.js';
import { MAX_ID_LENGTH } from '../../src/sessions/engine-options.js';

// Constructing a client opens no connection: these tests need no node.
const NODES = ['127.0.0.1:1'];

describe('client ids', () => {
  it('defaults to 16 random base64url characters, different per client', () => {
    const a = new BatonClient({ nodes: NODES });
    const b = new BatonClient({ nodes: NODES });
    expect(a.options.clientId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(b.options.clientId).not.toBe(a.options.clientId);
    expect(a.nextOpId()).toBe(`${a.options.clientId}:1`);
    expect(a.nextOpId()).toBe(`${a.options.clientId}:2`);
    a.shutdown();
    b.shutdown();
  });

  it('keeps a given client id as the prefix of operation ids', () => {
    const client = new BatonClient({ nodes: NODES, clientId: 'billing-7' });
    expect(client.nextOpId()).toBe('billing-7:1');
    client.shutdown();
  });

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(MAX_CLIENT_ID_LENGTH + 1)],
    ['not a string', 42 as unknown as string],
  ])('refuses a client id that is %s, naming the field', (_, clientId) => {
    expect(() => new BatonClient({ nodes: NODES, clientId })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/^clientId: /) }),
    );
  });

  it('leaves room for any sequence number within the node limit on operation ids', () => {
    expect(MAX_CLIENT_ID_LENGTH + 1 + String(Number.MAX_SAFE_INTEGER).length).toBeLessThanOrEqual(MAX_ID_LENGTH);
  });
});
