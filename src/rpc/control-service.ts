import type { ControlServiceHandlers } from '../generated/baton/v1/ControlService.js';
import type { NodeStatus } from '../generated/baton/v1/NodeStatus.js';
import { toStatusObject } from './status-mapper.js';

/** ControlService: what an operator (the CLI) asks a node. */
export class ControlServiceImpl {
  constructor(private readonly status: () => NodeStatus) {}

  handlers(): ControlServiceHandlers {
    return {
      Status: (_call, callback) => {
        try {
          callback(null, this.status());
        } catch (err) {
          callback(toStatusObject(err));
        }
      },
    };
  }
}
