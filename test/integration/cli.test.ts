import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, killAllDaemons } from '../helpers/daemon-process.js';
import { COUNTER_HANDLER } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

let daemon: DaemonProcess;
let nodes: Record<string, string>;

beforeAll(async () => {
  daemon = await DaemonProcess.start({ nodeId: 'cli-a' });
  nodes = { BATON_NODES: daemon.sessionAddress };
});

afterAll(async () => {
  await killAllDaemons();
});

function json<T>(stdout: string): T {
  return JSON.parse(stdout.trim()) as T;
}

describe('baton --help', () => {
  it('lists the commands', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of ['daemon', 'session', 'status']) expect(stdout).toContain(command);
  });

  it('documents every daemon flag with its environment variable', async () => {
    const { code, stdout } = await runCli(['daemon', '--help']);
    expect(code).toBe(0);
    for (const text of ['--node-id', 'BATON_NODE_ID', '--listen', '--control', '--handler', 'BATON_HANDLERS', '--config', '--grace-ms']) {
      expect(stdout).toContain(text);
    }
  });
});

describe('baton daemon with bad configuration', () => {
  const base = ['daemon', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', '--handler', `counter=${COUNTER_HANDLER}`];

  it.each<{ name: string; args: string[]; env: Record<string, string>; message: RegExp }>([
    { name: 'a bad flag value', args: ['--max-sessions', 'many'], env: {}, message: /invalid --max-sessions: got "many"; expected an integer from 1 to \d+ \(from the command line\)/ },
    { name: 'a bad environment value', args: [], env: { BATON_GRACE_MS: '-5' }, message: /invalid --grace-ms: got "-5"; expected an integer from 0 to 600000 \(from BATON_GRACE_MS\)/ },
    { name: 'a bad address', args: ['--listen', 'localhost'], env: {}, message: /invalid --listen: got "localhost"; expected HOST:PORT/ },
    { name: 'a bad log level', args: ['--log-level', 'loud'], env: {}, message: /invalid --log-level: got "loud"; expected one of fatal, error/ },
    { name: 'a handler without a type', args: ['--handler', 'justapath'], env: {}, message: /invalid --handler: got "justapath"; expected at least one TYPE=PATH/ },
    { name: 'a handler that does not exist', args: ['--handler', 'chat=/nonexistent/chat.js'], env: {}, message: /invalid --handler: cannot load handler from \/nonexistent\/chat.js: no such file/ },
    { name: 'a handler loaded under the wrong type', args: ['--handler', `chat=${COUNTER_HANDLER}`], env: {}, message: /the handler is named "counter" but was loaded as type "chat"/ },
    { name: 'an unknown flag', args: ['--max-sesions', '3'], env: {}, message: /unknown option '--max-sesions'/ },
  ])('$name exits with code 2 and names the field', async ({ args, env, message }) => {
    const { code, stderr, stdout } = await runCli([...base, ...args], env);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).not.toContain('node ready');
  });

  it('names the config-file key of a bad value and refuses unknown keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-cli-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ handlers: { counter: COUNTER_HANDLER }, dedupeWindow: 0 }));
    const r1 = await runCli(['daemon', '--config', bad]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/invalid --dedupe-window: got 0; expected an integer from 1 to 10000 \(from config key "dedupeWindow"\)/);
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ handlers: { counter: COUNTER_HANDLER }, nodeID: 'x' }));
    const r2 = await runCli(['daemon', '--config', unknown]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/invalid nodeID: .*expected one of the known keys: nodeId, listen/);
    const r3 = await runCli(['daemon', '--config', join(dir, 'missing.json')]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/cannot read config file .*missing.json/);
  });
});

describe('baton daemon configuration sources', () => {
  it('starts from a config file whose handler paths are relative to the file, with flags taking precedence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-cfg-'));
    const file = join(dir, 'baton.json');
    writeFileSync(
      file,
      JSON.stringify({ nodeId: 'from-file', listen: '127.0.0.1:1', control: '127.0.0.1:0', handlers: { counter: relative(dir, COUNTER_HANDLER) } }),
    );
    const node = await DaemonProcess.start({
      handlers: [],
      nodeId: 'from-flag',
      args: ['--config', file],
      env: { BATON_MAX_SESSIONS: '7' },
    });
    const status = await runCli(['status', '--control', node.controlAddress, '--json']);
    expect(status.code).toBe(0);
    const [report] = json<{ status: { nodeId: string; limits: { maxSessions: number }; handlers: { sessionType: string }[] } }[]>(status.stdout);
    expect(report?.status.nodeId).toBe('from-flag');
    expect(report?.status.limits.maxSessions).toBe(7);
    expect(report?.status.handlers.map((h) => h.sessionType)).toEqual(['counter']);
    await node.stop();
  });
});

describe('baton session', () => {
  it('opens, applies, gets, watches and closes a call with --json output', async () => {
    const opened = await runCli(['session', 'open', 'call', '--params', '{"from":"alice","to":"bob"}', '--json'], nodes);
    expect(opened.code).toBe(0);
    const session = json<{ sessionId: string; state: { status: string } }>(opened.stdout);
    expect(session.state.status).toBe('ringing');

    const answered = await runCli(['session', 'apply', session.sessionId, '{"type":"answer"}', '--json'], nodes);
    expect(answered.code).toBe(0);
    expect(json(answered.stdout)).toMatchObject({ version: 1, reply: { status: 'answered' }, deduplicated: false });

    const held = await runCli(['session', 'apply', session.sessionId, '{"type":"hold"}', '--unary', '--op-id', 'h1'], nodes);
    expect(held.code).toBe(0);
    expect(held.stdout).toContain('version 2: {"status":"held","holds":1}');
    const again = await runCli(['session', 'apply', session.sessionId, '{"type":"hold"}', '--op-id', 'h1'], nodes);
    expect(again.stdout).toContain('(already applied: original reply)');

    const got = await runCli(['session', 'get', session.sessionId, '--json'], nodes);
    expect(json(got.stdout)).toMatchObject({ version: 2, state: { status: 'held', holds: 1 } });

    const watched = runCli(['session', 'watch', session.sessionId, '--json'], nodes);
    await expect.poll(async () => (await runCli(['status', '--control', daemon.controlAddress, '--json'])).stdout).toMatch(/"openStreams":1/);
    const closed = await runCli(['session', 'close', session.sessionId, '--json'], nodes);
    expect(json(closed.stdout)).toMatchObject({ sessionId: session.sessionId, version: 2 });
    const watch = await watched;
    expect(watch.code).toBe(0);
    const kinds = watch.stdout.trim().split('\n').map((line) => json<{ kind: string }>(line).kind);
    expect(kinds).toEqual(['snapshot', 'closed']);
  });

  it('reports a refused operation with exit code 1 and the error code, as JSON too', async () => {
    const opened = await runCli(['session', 'open', 'call', '--params', '{"from":"a","to":"b"}', '--json'], nodes);
    const { sessionId } = json<{ sessionId: string }>(opened.stdout);
    const human = await runCli(['session', 'apply', sessionId, '{"type":"resume"}'], nodes);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/cannot resume a call that is ringing.*\(ERR_OPERATION_REJECTED, INVALID_TRANSITION\)/);
    const machine = await runCli(['session', 'apply', sessionId, '{"type":"resume"}', '--json'], nodes);
    expect(machine.code).toBe(1);
    expect(json(machine.stdout)).toMatchObject({ error: { code: 'ERR_OPERATION_REJECTED', handlerCode: 'INVALID_TRANSITION' } });
    const missing = await runCli(['session', 'get', 'nope', '--json'], nodes);
    expect(missing.code).toBe(1);
    expect(json(missing.stdout)).toMatchObject({ error: { code: 'ERR_SESSION_NOT_FOUND' } });
  });

  it('refuses malformed JSON arguments and bad addresses with exit code 2 before contacting a node', async () => {
    const badOp = await runCli(['session', 'apply', 'x', '{type: answer}'], nodes);
    expect(badOp.code).toBe(2);
    expect(badOp.stderr).toMatch(/<op> is not valid JSON .*pass a JSON value, e.g./);
    const badParams = await runCli(['session', 'open', 'call', '--params', 'nope'], nodes);
    expect(badParams.code).toBe(2);
    expect(badParams.stderr).toMatch(/--params is not valid JSON/);
    const badNodes = await runCli(['session', 'get', 'x', '--nodes', 'nowhere']);
    expect(badNodes.code).toBe(2);
    expect(badNodes.stderr).toMatch(/--nodes: "nowhere" is not HOST:PORT/);
  });
});

describe('baton status', () => {
  it('prints a table, JSON, and exit code 1 when a node is unreachable', async () => {
    const table = await runCli(['status', '--control', daemon.controlAddress]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/NODE\s+ROLE\s+STATE\s+RELEASE\s+OWNED\s+REPLICAS\s+OFFSET/);
    expect(table.stdout).toMatch(/cli-a\s+primary\s+serving/);
    expect(table.stdout).toMatch(/cli-a: WARNING running solo/);
    expect(table.stdout).toMatch(/cli-a: event loop delay p99 \d+\.\d ms, max \d+\.\d ms \(last 10 s\); \d+ of \d+ sessions packed/);
    const both = await runCli(['status', '--control', `${daemon.controlAddress},127.0.0.1:1`, '--json']);
    expect(both.code).toBe(1);
    const reports = json<{ reachable: boolean; error?: string; status?: { state: string; pid: number } }[]>(both.stdout);
    expect(reports[0]).toMatchObject({ reachable: true, status: { state: 'serving', pid: daemon.child.pid } });
    expect(reports[1]).toMatchObject({ reachable: false });
    expect(reports[1]?.error).toMatch(/127.0.0.1:1: unreachable: connect ECONNREFUSED/);
  });
});
