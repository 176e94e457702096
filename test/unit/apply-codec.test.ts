import { describe, expect, it } from 'vitest';
import { applyBatchSerializer, applyResultsSerializer, deserializeApplyBatch, deserializeApplyResults } from '../../src/rpc/apply-codec.js';
import { loadBatonProto, loadDefinition } from '../../src/rpc/proto-loader.js';

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;
type Method = { requestSerialize: Serialize; requestDeserialize: Deserialize; responseSerialize: Serialize; responseDeserialize: Deserialize };

/** proto-loader's own ApplyStream codec: the reference. */
const original = (loadDefinition()['baton.v1.SessionService'] as unknown as { ApplyStream: Method }).ApplyStream;
/** The one loadBatonProto installs, which clients and nodes use. */
const installed = (loadBatonProto() as unknown as { baton: { v1: { SessionService: { service: { ApplyStream: Method } } } } }).baton.v1.SessionService.service.ApplyStream;

const batches = [
  { requests: [] },
  {
    requests: [
      { sessionId: 's-1', opId: 'Zq3x9Kd0aB1cD2eF:17', op: { data: Buffer.from('{"type":"add"}'), contentType: 'application/json' }, correlationId: 1 },
      // Non-ASCII ids, an empty payload, a correlation id past 2^32.
      { sessionId: 'séance-✓', opId: '', op: { data: Buffer.alloc(0), contentType: '' }, correlationId: 2 ** 40 + 3 },
      // No payload at all, and fields left out.
      { sessionId: 's-3', correlationId: 0 },
      { sessionId: 's-4', op: { data: new Uint8Array([0, 1, 255]) } },
    ],
  },
];

const results = [
  { responses: [] },
  {
    responses: [
      { correlationId: 1, version: 41, reply: { data: Buffer.from('{"value":41}'), contentType: 'application/json' }, deduplicated: false },
      { correlationId: 2 ** 40 + 3, version: 2 ** 33, reply: { data: Buffer.alloc(0), contentType: '' }, deduplicated: true },
      // A refusal, as the node answers one: an error and no reply.
      {
        correlationId: 5,
        error: { grpcCode: 9, code: 'ERR_NOT_OWNER', message: 'session "s" is owned by b; retry at 10.0.0.2:7100', ownerAddress: '10.0.0.2:7100', handlerCode: '' },
      },
      { correlationId: 6, error: { grpcCode: 3, code: 'ERR_OPERATION_REJECTED', message: 'négatif', handlerCode: 'NEGATIVE' } },
      { correlationId: 7 },
    ],
  },
];

/** An unknown field of each wire type, as a later release might add (field numbers 20-23). */
const unknownFields = Buffer.from([0xa0, 0x01, 0x96, 0x01, 0xa9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xb2, 0x01, 2, 0x61, 0x62, 0xbd, 0x01, 1, 2, 3, 4]);

describe('the apply stream codec', () => {
  it('writes batches of operations that proto-loader reads as it reads its own', () => {
    for (const batch of batches) {
      expect(original.requestDeserialize(installed.requestSerialize(batch))).toEqual(original.requestDeserialize(original.requestSerialize(batch)));
    }
  });

  it('writes answers that proto-loader reads as it reads its own', () => {
    for (const answers of results) {
      expect(original.responseDeserialize(installed.responseSerialize(answers))).toEqual(original.responseDeserialize(original.responseSerialize(answers)));
    }
  });

  it('reads what proto-loader reads, from its bytes and from its own, defaults included', () => {
    for (const batch of batches) {
      for (const bytes of [original.requestSerialize(batch), installed.requestSerialize(batch)]) {
        expect(installed.requestDeserialize(bytes)).toEqual(original.requestDeserialize(bytes));
      }
    }
    for (const answers of results) {
      for (const bytes of [original.responseSerialize(answers), installed.responseSerialize(answers)]) {
        expect(installed.responseDeserialize(bytes)).toEqual(original.responseDeserialize(bytes));
      }
    }
  });

  it('skips fields it does not know, in the messages and inside each element', () => {
    const request = original.requestSerialize({ requests: [{ sessionId: 's', correlationId: 4 }] });
    // The element's length grows by the unknown fields appended inside it.
    const inner = request.subarray(2);
    const element = Buffer.concat([inner, unknownFields]);
    const withUnknown = Buffer.concat([unknownFields, Buffer.from([0x0a, element.length]), element, unknownFields]);
    expect(deserializeApplyBatch(withUnknown)).toEqual(original.requestDeserialize(withUnknown));
    const response = original.responseSerialize({ responses: [{ correlationId: 4, version: 2 }] });
    const answer = Buffer.concat([response.subarray(2), unknownFields]);
    const answerWithUnknown = Buffer.concat([Buffer.from([0x0a, answer.length]), answer, unknownFields]);
    expect(deserializeApplyResults(answerWithUnknown)).toEqual(original.responseDeserialize(answerWithUnknown));
  });

  it('gives payloads as views of the message, as protobufjs does', () => {
    const bytes = installed.requestSerialize(batches[1]);
    const { requests } = deserializeApplyBatch(bytes);
    const data = requests[0]?.op?.data as Buffer;
    expect(data.toString()).toBe('{"type":"add"}');
    expect(data.buffer).toBe(bytes.buffer);
  });

  it('leaves values of another shape to the serializer it wraps', () => {
    const seen: unknown[] = [];
    const next = (value: unknown): Buffer => {
      seen.push(value);
      return Buffer.from('next');
    };
    const others = [
      { requests: [{ sessionId: 's', op: { data: 'eyJ0eXBlIjoiYWRkIn0=' } }] }, // bytes as base64 text
      { requests: [{ sessionId: 's', correlationId: '7' }] }, // a 64-bit field as a decimal string
    ];
    for (const value of others) expect(applyBatchSerializer(next)(value).toString()).toBe('next');
    const answers = [{ responses: [{ correlationId: 1, reply: { data: 'eyJ9' } }] }, { responses: [{ correlationId: 1, error: { grpcCode: '9' } }] }];
    for (const value of answers) expect(applyResultsSerializer(next)(value).toString()).toBe('next');
    expect(seen).toEqual([...others, ...answers]);
    // The installed codec hands them to protobufjs, which reads the base64 text.
    expect(original.requestDeserialize(installed.requestSerialize(others[0]))).toEqual(original.requestDeserialize(original.requestSerialize(others[0])));
  });

  it('throws on bytes that are not a batch or its answers, naming the message', () => {
    const bytes = installed.requestSerialize(batches[1]);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      expect(() => deserializeApplyBatch(bytes.subarray(0, cut))).toThrow(/^not a baton\.v1\.ApplyBatch: /);
    }
    expect(() => deserializeApplyBatch(Buffer.from([0x0b]))).toThrow(/not a baton\.v1\.ApplyBatch: wire type 3 for element/);
    expect(() => deserializeApplyResults(Buffer.from([0x0a, 0x02, 0x0a, 0x00]))).toThrow(/not a baton\.v1\.ApplyResults: wire type 2 for correlation_id/);
  });
});
