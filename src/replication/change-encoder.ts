import type { EngineEvent } from '../sessions/session-engine.js';
import type { SessionRecord } from '../sessions/session-record.js';
import { measureRecord, writeRecord } from './record-codec.js';
import type { RecordEncoding } from './record-codec.js';
import type { ChangeEncoder } from './replication-log.js';

const NOT_MEASURED: RecordEncoding = {};

/**
 * How an engine event goes into the replication log: the changed record
 * with the offset it gets, carrying only the change's own dedupe entry (a
 * delta the replica merges into its window), or marked deleted when the
 * session closed. Written straight into the backlog's store.
 */
export class EngineChangeEncoder implements ChangeEncoder<EngineEvent> {
  /** What measure() worked out, for the write() that follows it (then dropped, so no reply is held). */
  private record: SessionRecord | undefined;
  private encoding: RecordEncoding = NOT_MEASURED;

  measure(event: EngineEvent, offset: number): number {
    this.record = event.record;
    this.encoding = encodingOf(event, offset);
    return measureRecord(event.record, this.encoding);
  }

  write(buf: Buffer, pos: number, size: number): void {
    if (this.record === undefined) throw new Error('EngineChangeEncoder.write() without measure()');
    writeRecord(buf, pos, this.record, this.encoding, size);
    this.record = undefined;
    this.encoding = NOT_MEASURED;
  }
}

function encodingOf(event: EngineEvent, offset: number): RecordEncoding {
  if (event.type === 'closed') return { deleted: true, dedupeDelta: [], offset };
  if (event.type === 'opened') return { offset };
  return { dedupeDelta: [{ opId: event.opId, version: event.record.version, reply: event.reply }], offset };
}
