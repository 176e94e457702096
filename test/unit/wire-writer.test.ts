import { describe, expect, it } from 'vitest';
import { writeStringField } from '../../src/rpc/wire-writer.js';

/** What writeStringField puts after the field's key and length: the content alone. */
function content(text: string, encoding: 'utf8' | 'latin1'): Buffer {
  const length = encoding === 'utf8' ? Buffer.byteLength(text, 'utf8') : text.length;
  const buf = Buffer.alloc(length + 16, 0xee);
  const end = writeStringField(buf, 3, 7, text, length, encoding);
  const head = end - length;
  expect(buf[3]).toBe((7 << 3) | 2);
  return buf.subarray(head, end);
}

describe('writeStringField', () => {
  it('writes the same bytes as Buffer.from for short, boundary-length and long text', () => {
    const texts = ['a', 'counter', 'x'.repeat(23), 'y'.repeat(24), 'z'.repeat(25), 'AbCdEfGhIjKlMnOp:123456789012345'];
    for (const text of texts) expect(content(text, 'utf8').equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  it('writes UTF-8 for short text that is not ASCII: accents, emoji and a lone surrogate', () => {
    for (const text of ['é', 'naïve', '🎉', 'a\ud800b', '日本']) {
      expect(content(text, 'utf8').equals(Buffer.from(text, 'utf8'))).toBe(true);
    }
  });

  it('writes a byte string as its own bytes, those above 0x7f included', () => {
    const bytes = Buffer.from([0x00, 0x7f, 0x80, 0xc3, 0xa9, 0xff, 0x10]);
    for (const bytesString of [bytes.toString('latin1'), Buffer.alloc(40, 0xfe).toString('latin1')]) {
      expect(content(bytesString, 'latin1').equals(Buffer.from(bytesString, 'latin1'))).toBe(true);
    }
  });

  it('writes nothing for an empty string', () => {
    const buf = Buffer.alloc(4, 0xee);
    expect(writeStringField(buf, 1, 7, '', 0, 'utf8')).toBe(1);
    expect([...buf]).toEqual([0xee, 0xee, 0xee, 0xee]);
  });
});
