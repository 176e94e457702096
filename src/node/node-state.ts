/**
 * Lifecycle of a node process.
 * - starting: loading handlers, binding ports; serves nothing yet.
 * - serving: applies operations.
 * - stopping: refuses new work with ERR_NODE_STOPPING, finishes what is in flight.
 * - stopped: ports closed.
 */
export type NodeState = 'starting' | 'serving' | 'stopping' | 'stopped';

export type NodeEvent = { readonly type: 'state'; readonly from: NodeState; readonly to: NodeState; readonly reason: string };
