import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { NodeStatus } from '../generated/baton/v1/NodeStatus.js';
import { formatHostPort } from '../rpc/address.js';
import type { HostPort } from '../rpc/address.js';

type Sample = [name: string, help: string, type: 'gauge' | 'counter', value: number, labels?: Record<string, string>];

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The node's status in the Prometheus text exposition format. */
export function renderMetrics(s: NodeStatus): string {
  const r = s.replication;
  const snap = s.snapshot;
  const base = { node: s.nodeId ?? '', cluster: s.cluster ?? '', role: s.role ?? '' };
  const samples: Sample[] = [
    ['baton_up', 'The node is serving (1) or not (0).', 'gauge', s.state === 'serving' ? 1 : 0],
    ['baton_sessions', 'Sessions held, by kind.', 'gauge', Number(s.sessionsOwned ?? 0), { kind: 'owned' }],
    ['baton_sessions', 'Sessions held, by kind.', 'gauge', Number(s.sessionsReplicated ?? 0), { kind: 'replicated' }],
    ['baton_sessions_packed', 'Sessions held encoded until touched (loaded from a snapshot, or idle).', 'gauge', Number(s.sessionsPacked ?? 0)],
    ['baton_packed_bytes', 'Memory of packed sessions outside the V8 heap: their bytes, and the chunks holding them.', 'gauge', Number(s.packedBytes ?? 0), { kind: 'records' }],
    ['baton_packed_bytes', 'Memory of packed sessions outside the V8 heap: their bytes, and the chunks holding them.', 'gauge', Number(s.packedChunkBytes ?? 0), { kind: 'chunks' }],
    ['baton_pending_timers', 'Timers waiting to fire on owned sessions.', 'gauge', Number(s.pendingTimers ?? 0)],
    ['baton_operations_applied_total', 'Operations applied since start.', 'counter', Number(s.operationsApplied ?? 0)],
    ['baton_operations_refused_total', 'Operations refused since start.', 'counter', Number(s.operationsRefused ?? 0)],
    ['baton_replication_offset', "Offset of this node's replication log.", 'gauge', Number(r?.offset ?? 0)],
    ['baton_replica_attached', 'A replica streams this node\'s log (1) or not (0).', 'gauge', r?.replicaAttached ? 1 : 0],
    ['baton_solo', 'This node owns sessions with no replica attached (1): acknowledged changes live here only.', 'gauge', r?.solo ? 1 : 0],
    ['baton_replica_lag_records', 'Records the replica has not acknowledged.', 'gauge', Number(r?.lagRecords ?? 0)],
    ['baton_replica_lag_bytes', 'Bytes the replica has not acknowledged.', 'gauge', Number(r?.lagBytes ?? 0)],
    ['baton_replica_lag_seconds', 'Age of the oldest unacknowledged record.', 'gauge', Number(r?.lagMs ?? 0) / 1000],
    ['baton_upstream_lag_records', "Records of the peer's log this node has not stored yet.", 'gauge', Number(r?.upstreamLagRecords ?? 0)],
    ['baton_redis_connected', 'Redis for snapshots is connected (1) or not (0).', 'gauge', snap?.redisConnected ? 1 : 0],
    ['baton_snapshot_age_seconds', 'Time since the last successful snapshot (-1: never).', 'gauge', Number(snap?.ageMs ?? -1) < 0 ? -1 : Number(snap?.ageMs) / 1000],
    ['baton_snapshot_dirty_sessions', 'Owned sessions changed since the last snapshot.', 'gauge', Number(snap?.dirtySessions ?? 0)],
    ['baton_snapshot_refills_total', 'Times Redis came back empty and was refilled.', 'counter', Number(snap?.refills ?? 0)],
    ['baton_event_loop_delay_p99_seconds', 'Event loop delay, p99 over the last 10 s window.', 'gauge', Number(s.eventLoopDelayP99Ms ?? 0) / 1000],
    ['baton_event_loop_delay_max_seconds', 'Event loop delay, max over the last 10 s window.', 'gauge', Number(s.eventLoopDelayMaxMs ?? 0) / 1000],
    ['baton_snapshot_corrupt_records', 'Snapshot records skipped at start because they could not be decoded.', 'gauge', Number(snap?.corruptRecords ?? 0)],
  ];
  const out: string[] = [];
  const described = new Set<string>();
  for (const [name, help, type, value, labels] of samples) {
    if (!described.has(name)) {
      described.add(name);
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    }
    const all = { ...base, ...labels };
    const text = Object.entries(all).map(([k, v]) => `${k}="${escape(v)}"`).join(',');
    out.push(`${name}{${text}} ${value}`);
  }
  return `${out.join('\n')}\n`;
}

/** Serves GET /metrics on `address`. */
export async function startMetricsServer(address: HostPort, status: () => NodeStatus): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at GET /metrics\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(status()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
  return { server, address: formatHostPort({ host: address.host, port }) };
}
