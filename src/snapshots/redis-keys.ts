/**
 * Redis key layout of a cluster (docs/snapshots.md). Every key carries the
 * `{cluster}` hash tag, so one Redis, Sentinel group or Cluster can hold many
 * pairs and a pair's scripts touch a single slot.
 */
export class RedisKeys {
  readonly meta: string;
  readonly epoch: string;
  readonly watermarks: string;
  readonly sessionPrefix: string;

  constructor(readonly cluster: string) {
    const base = `baton:{${cluster}}`;
    this.meta = `${base}:meta`;
    this.epoch = `${base}:epoch`;
    this.watermarks = `${base}:watermarks`;
    this.sessionPrefix = `${base}:s:`;
  }

  /** A node's registration marker: gone means Redis lost that node's data. */
  node(nodeId: string): string {
    return `baton:{${this.cluster}}:node:${nodeId}`;
  }

  session(sessionId: string): string {
    return `${this.sessionPrefix}${sessionId}`;
  }
}

/** Version of the record encoding in snapshots; a Redis with another is refused. */
export const SNAPSHOT_FORMAT = '1';
