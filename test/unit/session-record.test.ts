import { describe, expect, it } from 'vitest';
import { findDedupe, NO_OPERATIONS, NO_TIMERS, rememberOperation } from '../../src/sessions/session-record.js';
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

const entry = (n: number) => ({ opId: `op-${n}`, version: n, reply: '' });

describe('the dedupe window', () => {
  it('keeps the newest `window` operations, oldest first', () => {
    const r = record();
    for (let n = 1; n <= 6; n++) rememberOperation(r, entry(n), 4);
    expect(r.dedupe.map((d) => d.opId)).toEqual(['op-3', 'op-4', 'op-5', 'op-6']);
    expect(findDedupe(r, 'op-6')?.version).toBe(6);
    expect(findDedupe(r, 'op-2')).toBeUndefined();
  });

  it('replaces the array instead of changing it, so a copy handed out stays as it was', () => {
    const r = record();
    rememberOperation(r, entry(1), 2);
    const shipped = r.dedupe;
    rememberOperation(r, entry(2), 2);
    rememberOperation(r, entry(3), 2);
    expect(shipped.map((d) => d.opId)).toEqual(['op-1']);
    expect(r.dedupe.map((d) => d.opId)).toEqual(['op-2', 'op-3']);
    expect(NO_OPERATIONS).toHaveLength(0);
  });

  it('tells apart ids that share their length and last character', () => {
    const r = record();
    for (const opId of ['client-a:17', 'client-b:17', 'client-a:7', 'client-a:27']) rememberOperation(r, { opId, version: 1, reply: opId }, 8);
    expect(findDedupe(r, 'client-b:17')?.reply).toBe('client-b:17');
    expect(findDedupe(r, 'client-a:17')?.reply).toBe('client-a:17');
    expect(findDedupe(r, 'client-a:7')?.reply).toBe('client-a:7');
    expect(findDedupe(r, 'client-c:17')).toBeUndefined();
    expect(findDedupe(r, 'client-a:37')).toBeUndefined();
  });

  it('with a window of one keeps only the last operation', () => {
    const r = record();
    rememberOperation(r, entry(1), 1);
    rememberOperation(r, entry(2), 1);
    expect(r.dedupe.map((d) => d.opId)).toEqual(['op-2']);
  });
});
