import { Command, Option } from 'commander';
import { BatonClient } from '../client/baton-client.js';
import type { SessionSnapshot } from '../client/session-snapshot.js';
import { parseHostPort } from '../rpc/address.js';
import { emit, parseJsonArg, parsePositiveInt } from './output.js';
import { UsageError } from './usage-error.js';

interface ClientFlags {
  nodes?: string;
  deadlineMs?: string;
  json?: boolean;
}

const DEFAULT_NODES = '127.0.0.1:7100';

function clientFrom(flags: ClientFlags): BatonClient {
  const list = (flags.nodes ?? process.env.BATON_NODES ?? DEFAULT_NODES)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const node of list) {
    if (parseHostPort(node) === undefined) throw new UsageError(`--nodes: "${node}" is not HOST:PORT (e.g. 127.0.0.1:7100,127.0.0.1:7200)`);
  }
  if (list.length === 0) throw new UsageError('--nodes: give at least one HOST:PORT');
  const deadlineMs = flags.deadlineMs === undefined ? undefined : parsePositiveInt('--deadline-ms', flags.deadlineMs);
  return new BatonClient({ nodes: list, ...(deadlineMs === undefined ? {} : { deadlineMs }) });
}

function describe(session: SessionSnapshot): string {
  const lines = [
    `session ${session.sessionId} (${session.sessionType}, schema ${session.schemaVersion})`,
    `  version: ${session.version}`,
    `  owner:   ${session.owner}`,
    `  state:   ${JSON.stringify(session.state)}`,
  ];
  for (const t of session.timers) lines.push(`  timer:   ${t.timerId} at ${new Date(t.deadlineMs).toISOString()}`);
  return lines.join('\n');
}

/** Runs `body` with a client and always shuts the client down. */
async function withClient(cmd: Command, body: (client: BatonClient, json: boolean) => Promise<void>): Promise<void> {
  const flags = cmd.optsWithGlobals<ClientFlags>();
  const client = clientFrom(flags);
  try {
    await body(client, flags.json === true);
  } finally {
    client.shutdown();
  }
}

export function sessionCommand(): Command {
  const session = new Command('session')
    .summary('open, drive and inspect sessions on a running pair')
    .description('Drive sessions by hand through the client SDK (retries, redirects and failover included).')
    .addOption(new Option('--nodes <list>', `comma-separated session API addresses [env: BATON_NODES] (default: ${DEFAULT_NODES})`))
    .addOption(new Option('--deadline-ms <ms>', 'time budget per command, retries included (default: 10000)'))
    .addOption(new Option('--json', 'print one JSON value per result (NDJSON for watch)'));

  session
    .command('open')
    .description('open a session of TYPE and print it')
    .argument('<type>', 'session type, e.g. call or counter')
    .option('--id <session-id>', 'session id to use (default: a random UUID)')
    .option('--params <json>', 'JSON parameters for the handler init()')
    .addHelpText('after', `\nExample:\n  baton session open call --params '{"from":"alice","to":"bob"}'`)
    .action(async (type: string, opts: { id?: string; params?: string }, cmd: Command) => {
      const params = opts.params === undefined ? undefined : parseJsonArg('--params', opts.params, '{"start":0}');
      await withClient(cmd, async (client, json) => {
        const snapshot = await client.open(type, { ...(opts.id ? { sessionId: opts.id } : {}), params });
        emit(json, snapshot, () => `opened ${describe(snapshot)}`);
      });
    });

  session
    .command('apply')
    .description('apply one operation (JSON) to a session and print the reply')
    .argument('<session-id>')
    .argument('<op>', 'the operation as JSON')
    .option('--op-id <id>', 'operation id; reuse one to retry safely (default: generated)')
    .option('--unary', 'send as a unary call instead of on the apply stream')
    .addHelpText('after', `\nExample:\n  baton session apply 2f1c... '{"type":"answer"}'`)
    .action(async (sessionId: string, opText: string, opts: { opId?: string; unary?: boolean }, cmd: Command) => {
      const op = parseJsonArg('<op>', opText, '{"type":"answer"}');
      await withClient(cmd, async (client, json) => {
        const result = await client.apply(sessionId, op, {
          ...(opts.opId ? { opId: opts.opId } : {}),
          transport: opts.unary ? 'unary' : 'stream',
        });
        emit(
          json,
          result,
          () => `version ${result.version}: ${JSON.stringify(result.reply)}${result.deduplicated ? ' (already applied: original reply)' : ''}`,
        );
      });
    });

  session
    .command('get')
    .description('print a session')
    .argument('<session-id>')
    .action(async (sessionId: string, _opts: unknown, cmd: Command) => {
      await withClient(cmd, async (client, json) => {
        const snapshot = await client.get(sessionId);
        emit(json, snapshot, () => describe(snapshot));
      });
    });

  session
    .command('close')
    .description('close a session (its state and timers are dropped)')
    .argument('<session-id>')
    .action(async (sessionId: string, _opts: unknown, cmd: Command) => {
      await withClient(cmd, async (client, json) => {
        const result = await client.close(sessionId);
        emit(json, { sessionId, ...result }, () => `closed session ${sessionId}`);
      });
    });

  session
    .command('watch')
    .description('print a session, then each change, until it is closed (Ctrl-C stops)')
    .argument('<session-id>')
    .action(async (sessionId: string, _opts: unknown, cmd: Command) => {
      await withClient(cmd, async (client, json) => {
        const watch = client.watch(sessionId);
        const stop = (): void => watch.cancel();
        process.once('SIGINT', stop);
        try {
          for await (const event of watch) {
            emit(json, event, () => {
              const s = event.session;
              if (event.kind === 'snapshot') return `[v${s.version}] snapshot ${JSON.stringify(s.state)}`;
              if (event.kind === 'closed') return `[v${s.version}] closed`;
              const cause = event.timerId !== undefined ? `timer ${event.timerId}` : `op ${event.opId ?? ''}`;
              return `[v${s.version}] ${cause} -> ${JSON.stringify(event.reply)} state ${JSON.stringify(s.state)}`;
            });
          }
        } finally {
          process.off('SIGINT', stop);
        }
      });
    });
  return session;
}
