import { describe, expect, it } from 'vitest';
import { PeerRefusedError } from '../../src/errors.js';
import { checkPeer, checkTerms } from '../../src/replication/peer-identity.js';
import type { PeerIdentity } from '../../src/replication/peer-identity.js';
import { negotiateProtocol } from '../../src/replication/protocol-version.js';

const a: PeerIdentity = { cluster: 'c', nodeId: 'a', release: '1.0.0', role: 'primary', protocol: { min: 1, max: 3 }, sessionAddress: '' };
const b: PeerIdentity = { ...a, nodeId: 'b', release: '1.1.0', role: 'secondary', protocol: { min: 2, max: 5 } };

describe('negotiateProtocol', () => {
  it.each([
    [{ min: 1, max: 3 }, { min: 2, max: 5 }, 3],
    [{ min: 1, max: 1 }, { min: 1, max: 1 }, 1],
    [{ min: 4, max: 6 }, { min: 1, max: 4 }, 4],
    [{ min: 1, max: 1 }, { min: 2, max: 3 }, undefined],
  ])('%j with %j -> %s', (x, y, expected) => {
    expect(negotiateProtocol(x, y)).toBe(expected);
    expect(negotiateProtocol(y, x)).toBe(expected);
  });
});

describe('checkPeer', () => {
  it('picks the highest common version', () => {
    expect(checkPeer(a, b)).toBe(3);
  });

  it.each([
    [{ protocol: { min: 4, max: 5 } }, /no common peer protocol version: node a \(release 1.0.0\) speaks 1-3, node b \(release 1.1.0\) speaks 4-5/],
    [{ cluster: 'd' }, /cluster mismatch/],
    [{ nodeId: 'a' }, /both nodes are named "a"/],
    [{ role: 'primary' as const }, /both nodes \(a and b\) are configured as primary/],
  ])('refuses %j', (patch, message) => {
    expect(() => checkPeer(a, { ...b, ...patch })).toThrow(PeerRefusedError);
    expect(() => checkPeer(a, { ...b, ...patch })).toThrow(message);
  });
});

describe('checkTerms', () => {
  it('checks cluster, node ids and protocol but not roles (a hand-back has none)', () => {
    expect(checkTerms(a, { ...b, role: 'primary' } as PeerIdentity)).toBe(3);
    expect(() => checkTerms(a, { ...b, cluster: 'd' })).toThrow(/cluster mismatch/);
    expect(() => checkTerms(a, { ...b, protocol: { min: 4, max: 5 } })).toThrow(/no common peer protocol version/);
  });
});
