import { describe, expect, it } from 'vitest';
import { byteStringsOf, isAscii, jsonByteStrings } from '../../src/sessions/byte-string-codec.js';
import { jsonCodec } from '../../src/sessions/handler.js';
import type { Codec } from '../../src/sessions/handler.js';
import { fromByteString, toByteString } from '../../src/sessions/session-record.js';

const VALUES: unknown[] = [
  { value: 1, fired: [] },
  { text: 'café, Grüße, 日本語, 😀' },
  // A lone surrogate: JSON.stringify escapes it, so the text stays ASCII.
  { broken: '\ud800' },
  'x'.repeat(300),
  null,
  0,
  [],
];

describe('isAscii', () => {
  it('tells text whose UTF-8 bytes read back as latin1 are itself', () => {
    expect(isAscii('')).toBe(true);
    expect(isAscii('{"value":1}\u007f')).toBe(true);
    expect(isAscii('\u0080')).toBe(false);
    expect(isAscii('é')).toBe(false);
    expect(isAscii('😀')).toBe(false);
  });
});

describe('jsonByteStrings', () => {
  it('encodes to exactly the bytes of jsonCodec, as a byte string', () => {
    for (const value of VALUES) expect(jsonByteStrings.encode(value)).toBe(toByteString(jsonCodec.encode(value)));
  });

  it('stores undefined as null, as jsonCodec does', () => {
    expect(jsonByteStrings.encode(undefined)).toBe('null');
  });

  it('decodes what jsonCodec decodes, ASCII or not', () => {
    for (const value of VALUES) {
      const bytes = jsonCodec.encode(value);
      expect(jsonByteStrings.decode(toByteString(bytes))).toEqual(jsonCodec.decode(bytes));
    }
  });

  it('throws what JSON throws', () => {
    expect(() => jsonByteStrings.encode({ n: 1n })).toThrow(/BigInt/);
    expect(() => jsonByteStrings.decode('{"unterminated')).toThrow(SyntaxError);
  });
});

describe('byteStringsOf', () => {
  it('takes the JSON fast path for the default codec only', () => {
    expect(byteStringsOf(jsonCodec)).toBe(jsonByteStrings);
    expect(byteStringsOf({ ...jsonCodec })).not.toBe(jsonByteStrings);
  });

  it('goes through the buffers of any other codec', () => {
    const float64: Codec = {
      contentType: 'application/x-float64',
      encode: (value) => {
        const out = Buffer.alloc(8);
        out.writeDoubleBE(value as number);
        return out;
      },
      decode: (data) => data.readDoubleBE(0),
    };
    const strings = byteStringsOf(float64);
    const encoded = strings.encode(-1.5);
    expect(fromByteString(encoded)).toEqual(float64.encode(-1.5));
    expect(isAscii(encoded)).toBe(false);
    expect(strings.decode(encoded)).toBe(-1.5);
  });
});
