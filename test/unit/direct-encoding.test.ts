import type { ServiceDefinition } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { toWire } from '../../src/replication/record-codec.js';
import { useDirectEncoding } from '../../src/rpc/direct-encoding.js';
import { loadBatonProto, loadDefinition, loadProtobufRoot } from '../../src/rpc/proto-loader.js';
import { dedupeEntry, toByteString } from '../../src/sessions/session-record.js';

type Serialize = (value: unknown) => Buffer;
type Side = 'request' | 'response';

const serializerOf = (definition: ReturnType<typeof loadDefinition>, service: string, method: string, side: Side): Serialize =>
  (definition[service] as ServiceDefinition)[method]?.[side === 'request' ? 'requestSerialize' : 'responseSerialize'] as Serialize;

/** The serializers as @grpc/proto-loader makes them (fromObject, then encode), and the ones useDirectEncoding puts in their place. */
const original = loadDefinition();
const direct = loadDefinition();
useDirectEncoding(direct, loadProtobufRoot());
function serializers(service: string, method: string, side: Side): { original: Serialize; direct: Serialize } {
  return { original: serializerOf(original, service, method, side), direct: serializerOf(direct, service, method, side) };
}

const record = {
  sessionId: 'sessión-✓',
  sessionType: 'counter',
  version: 2 ** 40 + 3,
  schemaVersion: 2,
  owner: 'nœud-a',
  epoch: 2 ** 32,
  state: toByteString(Buffer.from('{"value":3}')),
  timers: [{ timerId: 't', deadlineMs: -5, payload: Buffer.from([1, 2, 3]) }],
  dedupe: [dedupeEntry('client:1', 2 ** 35, ''), dedupeEntry('client:2', 7, toByteString(Buffer.from([0, 0xff])))],
  createdAtMs: -(2 ** 33),
  updatedAtMs: 1_763_770_000_999,
};

const cases: [string, string, 'request' | 'response', unknown][] = [
  ['baton.v1.SessionService', 'ApplyStream', 'request', { requests: [{ sessionId: 's', opId: 'c:1', op: { data: Buffer.from('{"type":"add"}'), contentType: 'application/json' }, correlationId: 2 ** 40 + 5 }] }],
  [
    'baton.v1.SessionService',
    'ApplyStream',
    'response',
    {
      responses: [
        { correlationId: 7, version: 2 ** 35, reply: { data: Buffer.from('{"value":1}'), contentType: 'application/json' }, deduplicated: false },
        { correlationId: 8, error: { grpcCode: 5, code: 'ERR_SESSION_NOT_FOUND', message: 'no session "x"', ownerAddress: '' } },
      ],
    },
  ],
  ['baton.v1.PeerService', 'Replicate', 'response', { batch: { records: [toWire(record, { offset: 12 }), toWire(record, { offset: 13, deleted: true, dedupeDelta: [] })], sentAtMs: 1_763_770_000_000 } }],
  ['baton.v1.PeerService', 'Replicate', 'response', { heartbeat: { offset: 99, sentAtMs: 5 } }],
  // Enums travel as names: these go through fromObject.
  ['baton.v1.PeerService', 'Replicate', 'response', { welcome: { protocolVersion: 1, nodeId: 'a', release: '0.1.0', replicationId: 'r', offset: 4, mode: 'FULL_STREAM', sessionAddress: '127.0.0.1:1', epoch: 3, role: 'primary' } }],
  ['baton.v1.SessionService', 'Watch', 'response', { kind: 'CHANGE', opId: 'c:1', timerId: '' }],
  ['baton.v1.PeerService', 'Replicate', 'request', { ack: { offset: 2 ** 41, sentAtMs: 1 } }],
  ['baton.v1.PeerService', 'Handback', 'response', { records: [toWire(record)], sentAtMs: 3 }],
];

describe('direct encoding', () => {
  it.each(cases)('%s.%s %s: the same bytes as fromObject then encode', (service, method, side, message) => {
    const { original, direct } = serializers(service, method, side);
    expect(direct.name).toBe('directSerialize');
    expect(original.name).not.toBe('directSerialize');
    expect(Buffer.from(direct(message)).equals(Buffer.from(original(message)))).toBe(true);
  });

  it('is what the node and the SDK serialize with', () => {
    const proto = loadBatonProto();
    expect((proto.baton.v1.SessionService.service.Open.responseSerialize as Serialize).name).toBe('directSerialize');
    expect((proto.baton.v1.PeerService.service.Replicate.requestSerialize as Serialize).name).toBe('directSerialize');
    // Replication batches go through encoded-batch.ts first, which hands other messages on to the direct one.
    expect((proto.baton.v1.PeerService.service.Replicate.responseSerialize as Serialize).name).toBe('serializeEncoded');
    expect(proto.baton.v1.PeerService.service.Replicate.responseDeserialize.name).toBe('deserializeDecoded');
    expect(proto.baton.v1.PeerService.service.Handback.responseDeserialize.name).toBe('deserializeDecoded');
    // The apply stream's messages are apply-codec.ts's, both ways, at both ends.
    const apply = proto.baton.v1.SessionService.service.ApplyStream;
    expect([apply.requestSerialize, apply.requestDeserialize, apply.responseSerialize, apply.responseDeserialize].map((f) => f.name)).toEqual([
      'serializeApplyBatch',
      'deserializeApplyBatch',
      'serializeApplyResults',
      'deserializeApplyResults',
    ]);
  });

  it('encodes enums given by name', () => {
    const { direct } = serializers('baton.v1.PeerService', 'Replicate', 'response');
    const welcome = (mode: string) => direct({ welcome: { mode } });
    expect(welcome('FULL_STREAM').equals(welcome('PARTIAL'))).toBe(false);
  });
});
