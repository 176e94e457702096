import type { Payload } from '../generated/baton/v1/Payload.js';
import { EMPTY_BYTES } from '../sessions/owned-bytes.js';
import type { Payload__Output } from '../generated/baton/v1/Payload.js';

const JSON_TYPE = 'application/json';

/** A value for the wire: Buffers go as they are, anything else as JSON. */
export function encodeValue(value: unknown, contentType: string | undefined): Payload {
  if (Buffer.isBuffer(value)) return { data: value, contentType: contentType ?? '' };
  if (value === undefined) return { data: EMPTY_BYTES, contentType: '' };
  return { data: Buffer.from(JSON.stringify(value), 'utf8'), contentType: JSON_TYPE };
}

/** A value from the wire: JSON is parsed, other content types stay Buffers, empty is undefined. */
export function decodeValue(payload: Payload__Output | null | undefined): unknown {
  if (payload === null || payload === undefined || payload.data.length === 0) return undefined;
  if (payload.contentType === JSON_TYPE || payload.contentType === '') {
    return JSON.parse(payload.data.toString('utf8')) as unknown;
  }
  return payload.data;
}
