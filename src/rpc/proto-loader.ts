import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Options, PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { useApplyCodec } from './apply-codec.js';
import { useDirectEncoding } from './direct-encoding.js';
import { receiveDecoded, SOURCE_BATCH_FIELD, spliceEncoded } from '../replication/encoded-batch.js';
import type { ProtoGrpcType as SessionProto } from '../generated/session.js';
import type { ProtoGrpcType as ControlProto } from '../generated/control.js';

/** proto/ at the package root (next to dist/ and src/). */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

/**
 * The loader options, read from proto/loader-options.json: the same file
 * scripts/generate-types.mjs turns into the generator's flags, so generated
 * types and runtime objects always agree.
 */
export function loaderOptions(): Options {
  const raw = JSON.parse(readFileSync(`${PROTO_DIR}loader-options.json`, 'utf8')) as Record<string, unknown>;
  const constructors: Record<string, unknown> = { Number, String };
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    options[key] = typeof value === 'string' && value in constructors ? constructors[value] : value;
  }
  return { ...options, includeDirs: [PROTO_DIR] } as Options;
}

export type BatonProto = SessionProto & ControlProto;

const PROTO_FILES = ['baton/v1/session.proto', 'baton/v1/control.proto', 'baton/v1/peer.proto'];

/** The protos as protobufjs types, field names in camelCase as the loader options give them. */
export function loadProtobufRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith(PROTO_DIR) ? target : `${PROTO_DIR}${target}`);
  root.loadSync(PROTO_FILES, { keepCase: loaderOptions().keepCase === true });
  root.resolveAll();
  return root;
}

/** The protos as @grpc/proto-loader defines them, with its own serializers. */
export function loadDefinition(): PackageDefinition {
  return loadSync(PROTO_FILES, loaderOptions());
}

let cached: BatonProto | undefined;

/**
 * Loads every Baton service once per process, with direct encoding
 * (direct-encoding.ts), the apply stream's messages written and read
 * directly (apply-codec.ts), batches of records already encoded (the log's
 * changes, packed sessions) written around their bytes, and received
 * batches decoded straight into records (encoded-batch.ts).
 */
export function loadBatonProto(): BatonProto {
  if (cached !== undefined) return cached;
  const definition = loadDefinition();
  useDirectEncoding(definition, loadProtobufRoot());
  useApplyCodec((definition['baton.v1.SessionService'] as unknown as Record<'ApplyStream', Parameters<typeof useApplyCodec>[0]>).ApplyStream);
  const peer = definition['baton.v1.PeerService'] as unknown as Record<
    'Replicate' | 'Handback',
    { responseSerialize: (value: unknown) => Buffer; responseDeserialize: (bytes: Buffer) => unknown }
  >;
  peer.Replicate.responseSerialize = spliceEncoded(peer.Replicate.responseSerialize, SOURCE_BATCH_FIELD);
  peer.Handback.responseSerialize = spliceEncoded(peer.Handback.responseSerialize);
  peer.Replicate.responseDeserialize = receiveDecoded(peer.Replicate.responseDeserialize, SOURCE_BATCH_FIELD);
  peer.Handback.responseDeserialize = receiveDecoded(peer.Handback.responseDeserialize);
  cached = loadPackageDefinition(definition) as unknown as BatonProto;
  return cached;
}
