import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Options } from '@grpc/proto-loader';
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

let cached: BatonProto | undefined;

/** Loads every Baton service once per process. */
export function loadBatonProto(): BatonProto {
  cached ??= loadPackageDefinition(
    loadSync(['baton/v1/session.proto', 'baton/v1/control.proto', 'baton/v1/peer.proto'], loaderOptions()),
  ) as unknown as BatonProto;
  return cached;
}
