import { credentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import type { NodeStatus__Output } from '../generated/baton/v1/NodeStatus.js';
import { parseHostPort } from '../rpc/address.js';
import { loadBatonProto } from '../rpc/proto-loader.js';
import { fromServiceError } from '../rpc/status-mapper.js';
import { parsePositiveInt } from './output.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './usage-error.js';

const DEFAULT_CONTROL = '127.0.0.1:7101';

export type NodeReport =
  | { readonly address: string; readonly reachable: true; readonly status: NodeStatus__Output }
  | { readonly address: string; readonly reachable: false; readonly error: string };

const mebibytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Asks one node's ControlService for its status. */
export function fetchStatus(address: string, timeoutMs: number): Promise<NodeReport> {
  const proto = loadBatonProto();
  const client = new proto.baton.v1.ControlService(address, credentials.createInsecure());
  return new Promise<NodeReport>((resolve) => {
    client.Status({}, { deadline: Date.now() + timeoutMs }, (err: ServiceError | null, res?: NodeStatus__Output) => {
      client.close();
      if (err || res === undefined) {
        resolve({ address, reachable: false, error: err ? fromServiceError(err, address).message : 'empty answer' });
      } else {
        resolve({ address, reachable: true, status: res });
      }
    });
  });
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}KiB`;
  return `${(n / 1024 / 1024).toFixed(1)}MiB`;
}

function row(s: NodeStatus__Output): string[] {
  const r = s.replication;
  const snap = s.snapshot;
  const replica = r === null ? '-' : r.replicaAttached ? 'attached' : !r.solo ? '-' : r.minReplicas === 1 ? 'NONE:refusing' : 'NONE:solo';
  const lag = r === null ? '-' : `${r.lagRecords}/${bytes(Number(r.lagBytes))}/${r.lagMs}ms`;
  const redis = snap === null || !snap.configured ? 'off' : snap.redisConnected ? 'up' : 'DOWN';
  const age = snap === null || !snap.configured ? '-' : snap.ageMs < 0 ? 'never' : `${(Number(snap.ageMs) / 1000).toFixed(1)}s`;
  return [
    s.nodeId,
    s.role,
    s.state,
    s.release,
    String(s.sessionsOwned),
    String(s.sessionsReplicated),
    String(r?.offset ?? 0),
    replica,
    lag,
    r === null || r.upstreamState === 'none' ? '-' : r.inSync ? 'in-sync' : r.upstreamState === 'streaming' ? `behind:${r.upstreamLagRecords}` : r.upstreamState,
    r?.resyncPath || '-',
    redis,
    age,
  ];
}

function table(reports: readonly NodeReport[]): string {
  const header = ['NODE', 'ROLE', 'STATE', 'RELEASE', 'OWNED', 'REPLICAS', 'OFFSET', 'REPLICA', 'LAG(rec/bytes/ms)', 'UPSTREAM', 'RESYNC', 'REDIS', 'SNAPSHOT'];
  const rows = reports.map((r) =>
    r.reachable ? row(r.status) : ['?', '-', 'unreachable', ...Array.from({ length: header.length - 3 }, () => '-')],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  for (const r of reports) {
    if (!r.reachable) {
      out.push(`${r.address}: ${r.error}`);
      continue;
    }
    const s = r.status;
    out.push(
      `${s.nodeId}: up ${formatDuration(Date.now() - Number(s.startedAtMs))}, session ${s.sessionAddress}, cluster ${s.cluster}, epoch ${s.epoch}, ${s.replication?.durability ?? '?'} durability, handlers ${s.handlers.map((h) => `${h.sessionType}@${h.schemaVersion}`).join(', ')}`,
    );
    // Every operation waits out a stalled loop: the first thing to read when latency grows.
    out.push(
      `${s.nodeId}: event loop delay p99 ${s.eventLoopDelayP99Ms.toFixed(1)} ms, max ${s.eventLoopDelayMaxMs.toFixed(1)} ms (last 10 s); ${s.sessionsPacked} of ${s.sessionsOwned + s.sessionsReplicated} sessions packed` +
        (s.packedChunkBytes > 0 ? ` (${mebibytes(s.packedBytes)} in ${mebibytes(s.packedChunkBytes)} of chunks)` : ''),
    );
    for (const warning of s.warnings) out.push(`${s.nodeId}: WARNING ${warning}`);
  }
  return out.join('\n');
}

export function statusCommand(setExitCode: (code: number) => void): Command {
  return new Command('status')
    .description(
      'show each node: role, sessions owned and replicated, replication offset and lag, resync path, Redis and snapshot age, warnings (exit code 1 when any node is unreachable)',
    )
    .addOption(new Option('--control <list>', `comma-separated control API addresses [env: BATON_CONTROL] (default: ${DEFAULT_CONTROL})`))
    .option('--timeout-ms <ms>', 'how long to wait for each node', '2000')
    .option('--json', 'print a JSON array with one entry per node')
    .action(async (opts: { control?: string; timeoutMs: string; json?: boolean }) => {
      const addresses = (opts.control ?? process.env.BATON_CONTROL ?? DEFAULT_CONTROL)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      for (const a of addresses) {
        if (parseHostPort(a) === undefined) throw new UsageError(`--control: "${a}" is not HOST:PORT (e.g. 127.0.0.1:7101)`);
      }
      const timeoutMs = parsePositiveInt('--timeout-ms', opts.timeoutMs);
      const reports = await Promise.all(addresses.map((a) => fetchStatus(a, timeoutMs)));
      process.stdout.write(opts.json ? `${JSON.stringify(reports)}\n` : `${table(reports)}\n`);
      setExitCode(reports.every((r) => r.reachable) ? EXIT_OK : EXIT_FAILURE);
    });
}
