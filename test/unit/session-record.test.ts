import { describe, expect, it } from 'vitest';
import { decodeReceived, decodeRecord, encodeRecord } from '../../src/replication/record-codec.js';
import { dedupeEntry, findDedupe, mergeDedupe, NO_OPERATIONS, NO_TIMERS, opIdTag, rememberOperation } from '../../src/sessions/session-record.js';
import type { DedupeEntry } from '../../src/sessions/session-record.js';
import type { SessionRecord } from '../../src/sessions/session-record.js';

function record(): SessionRecord {
  return {
    sessionId: 's',
    sessionType: 'counter',
    version: 0,
    schemaVersion: 1,
    owner: 'a',
    epoch: 1,
    state: '',
    timers: NO_TIMERS,
    dedupe: NO_OPERATIONS,
    createdAtMs: 0,
    updatedAtMs: 0,
  };
}

const entry = (n: number) => dedupeEntry(`op-${n}`, n, '');

describe('the dedupe window', () => {
  it('keeps the newest `window` operations, oldest first', () => {
    const r = record();
    for (let n = 1; n <= 6; n++) rememberOperation(r, entry(n), 4);
    expect(r.dedupe.map((d) => d.opId)).toEqual(['op-3', 'op-4', 'op-5', 'op-6']);
    expect(findDedupe(r, 'op-6')?.version).toBe(6);
    expect(findDedupe(r, 'op-2')).toBeUndefined();
  });

  it('rebuilds a filling window at its exact length and shifts a full one in place', () => {
    const r = record();
    rememberOperation(r, entry(1), 3);
    const first = r.dedupe;
    rememberOperation(r, entry(2), 3);
    // Still filling: a new array, the one handed out before stays as it was.
    expect(r.dedupe).not.toBe(first);
    expect(first.map((d) => d.opId)).toEqual(['op-1']);
    rememberOperation(r, entry(3), 3);
    const full = r.dedupe;
    rememberOperation(r, entry(4), 3);
    rememberOperation(r, entry(5), 3);
    expect(r.dedupe).toBe(full);
    expect(r.dedupe.map((d) => d.opId)).toEqual(['op-3', 'op-4', 'op-5']);
    expect(NO_OPERATIONS).toHaveLength(0);
  });

  it('shrinks a window longer than the node keeps (a smaller --dedupe-window) to its newest entries', () => {
    const r = record();
    for (let n = 1; n <= 5; n++) rememberOperation(r, entry(n), 5);
    rememberOperation(r, entry(6), 3);
    expect(r.dedupe.map((d) => d.opId)).toEqual(['op-4', 'op-5', 'op-6']);
  });

  it('tells apart ids that share their length and last character', () => {
    const r = record();
    for (const opId of ['client-a:17', 'client-b:17', 'client-a:7', 'client-a:27']) rememberOperation(r, dedupeEntry(opId, 1, opId), 8);
    expect(findDedupe(r, 'client-b:17')?.reply).toBe('client-b:17');
    expect(findDedupe(r, 'client-a:17')?.reply).toBe('client-a:17');
    expect(findDedupe(r, 'client-a:7')?.reply).toBe('client-a:7');
    expect(findDedupe(r, 'client-c:17')).toBeUndefined();
    expect(findDedupe(r, 'client-a:37')).toBeUndefined();
  });

  it('compares the ids themselves when tags match', () => {
    const r = record();
    // An entry whose tag collides with another id's.
    rememberOperation(r, { opId: 'op-a', tag: opIdTag('op-b'), version: 1, reply: 'a' }, 4);
    expect(findDedupe(r, 'op-b')).toBeUndefined();
    expect(findDedupe(r, 'op-a', opIdTag('op-b'))?.reply).toBe('a');
  });

  it('finds every operation of a window after a snapshot or a replication round trip', () => {
    const r = record();
    const ids = Array.from({ length: 32 }, (_, i) => `3f6d2c1e-8a4b-4c2d-9e7f-0a1b2c3d4e5f:${1000 * i + 7}`);
    for (const [i, opId] of ids.entries()) rememberOperation(r, dedupeEntry(opId, i + 1, `reply-${i}`), 32);
    for (const copy of [decodeRecord(encodeRecord(r)), decodeReceived(encodeRecord(r, { offset: 9 })).record]) {
      for (const [i, opId] of ids.entries()) expect(findDedupe(copy, opId)?.reply).toBe(`reply-${i}`);
      expect(findDedupe(copy, `${ids[0]}0`)).toBeUndefined();
    }
  });

  it('with a window of one keeps only the last operation', () => {
    const r = record();
    rememberOperation(r, entry(1), 1);
    rememberOperation(r, entry(2), 1);
    expect(r.dedupe.map((d) => d.opId)).toEqual(['op-2']);
  });
});

describe('mergeDedupe', () => {
  const window = (from: number, to: number): DedupeEntry[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => dedupeEntry(`op-${from + i}`, from + i, ''));
  /** The merge written plainly: append the newer entries, keep the last `size`. */
  const reference = (held: DedupeEntry[], delta: DedupeEntry[], heldVersion: number, size: number): DedupeEntry[] => {
    const merged = held.concat(delta.filter((d) => d.version > heldVersion));
    return merged.slice(Math.max(0, merged.length - size));
  };

  it('appends the entries newer than the version held and keeps the newest of the window', () => {
    for (const size of [1, 2, 4, 32]) {
      for (let heldTo = 0; heldTo <= 6; heldTo++) {
        const held = window(Math.max(1, heldTo - size + 1), heldTo);
        for (const delta of [[], window(heldTo + 1, heldTo + 1), window(heldTo - 1, heldTo + 3), window(1, heldTo)]) {
          expect(mergeDedupe(held, delta, heldTo, size).map((d) => d.opId)).toEqual(reference(held, delta, heldTo, size).map((d) => d.opId));
        }
      }
    }
  });

  it('changes neither input', () => {
    const held = window(1, 3);
    const delta = window(4, 5);
    mergeDedupe(held, delta, 3, 4);
    expect(held.map((d) => d.version)).toEqual([1, 2, 3]);
    expect(delta.map((d) => d.version)).toEqual([4, 5]);
  });

  it('merges the same when it may reuse the held window, and reuses a full one only', () => {
    for (const size of [1, 2, 4, 32]) {
      for (let heldTo = 0; heldTo <= 6; heldTo++) {
        for (const delta of [[], window(heldTo + 1, heldTo + 1), window(heldTo - 1, heldTo + 3), window(1, heldTo)]) {
          const held = window(Math.max(1, heldTo - size + 1), heldTo);
          const expected = reference(held, delta, heldTo, size).map((d) => d.opId);
          const merged = mergeDedupe(held, delta, heldTo, size, true);
          expect(merged.map((d) => d.opId)).toEqual(expected);
          expect(merged === held).toBe(held.length === size);
        }
      }
    }
  });
});
