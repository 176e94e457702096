import type { ControlServiceHandlers } from '../generated/baton/v1/ControlService.js';
import type { NodeStatus } from '../generated/baton/v1/NodeStatus.js';
import type { SessionRecord } from '../generated/baton/v1/SessionRecord.js';
import { toStatusObject } from './status-mapper.js';

/** ControlService: what an operator (the CLI) asks a node. */
export class ControlServiceImpl {
  constructor(
    private readonly status: () => NodeStatus,
    private readonly records: (owner: string) => SessionRecord[],
  ) {}

  handlers(): ControlServiceHandlers {
    return {
      Status: (_call, callback) => {
        try {
          callback(null, this.status());
        } catch (err) {
          callback(toStatusObject(err));
        }
      },
      ListRecords: (call) => {
        for (const record of this.records(call.request.owner)) call.write(record);
        call.end();
      },
    };
  }
}
