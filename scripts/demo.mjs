// Runs a real Baton pair under a phone-call workload and reports what it did.
//
//   node scripts/demo.mjs [--duration-s N] [--sessions N] [--no-chaos] [--json]
//
// Starts a private `redis-server` on a free 127.0.0.1 port (no persistence,
// in a temporary directory; without redis-server on the PATH the pair runs
// without snapshots), then two `baton daemon` processes (dist/cli/main.js)
// with the example counter and call handlers: node "a" --role primary and
// node "b" --role secondary, each --peer the other's control address, with
// --redis and --durability sync. It waits until b streams a's replication
// log, then drives call sessions through the client SDK, which is given both
// session addresses, b's first, and follows b's redirects to a: each "line"
// opens a call, lets it ring, answers, holds, resumes and hangs up at random,
// or leaves it ringing so the handler's ring-timeout timer ends it as
// "no-answer"; then it closes the session and places the next call.
//
// At 40 % of the run (unless --no-chaos) it kills b with SIGKILL, keeps
// driving while a runs solo (and prints the warning a's status shows),
// restarts b with the same flags and waits until it has resynced (the path
// its status reports: partial or full-redis) and caught up.
//
// After --duration-s seconds (or Ctrl-C) it stops the workload, hangs up the
// calls still in progress, compares every record b holds with a's
// (ControlService.ListRecords), closes the sessions, reads both nodes'
// counters with `baton status --json` and checks them against the client's
// (every acknowledged operation applied once, every fired timer counted,
// nothing left behind, b caught up), stops both nodes and Redis with SIGTERM
// and prints a summary. Exit code: 0 when every check holds, 1 otherwise,
// 2 on a bad flag.
//
// Every wait is bounded: a process that does not exit within 15 s of SIGTERM
// is killed with SIGKILL, and a watchdog ends the whole run if anything hangs.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const SDK = join(ROOT, 'dist', 'index.js');
const PROTO_LOADER = join(ROOT, 'dist', 'rpc', 'proto-loader.js');
const HANDLERS = [
  `counter=${join(ROOT, 'examples', 'handlers', 'counter')}`,
  `call=${join(ROOT, 'examples', 'handlers', 'call')}`,
];
const CLUSTER = 'demo';

/** Ring timeout of every demo call: short, so no-answer timers fire during the run. */
const RING_TIMEOUT_MS = 2_000;
/** How long a node (or Redis) gets to come up. */
const READY_TIMEOUT_MS = 15_000;
/** How long the pair gets to be in sync (at start, after the restart, at the end). */
const SYNC_TIMEOUT_MS = 15_000;
/** How long SIGTERM may take before a process is killed with SIGKILL. */
const STOP_TIMEOUT_MS = 15_000;
/** How long the lines get to finish the operation they are in after the run ends. */
const WIND_DOWN_TIMEOUT_MS = 8_000;
/** Time budget of one SDK call, retries included. */
const CALL_DEADLINE_MS = 5_000;
/** Time budget of one ControlService call. */
const CONTROL_TIMEOUT_MS = 2_000;
/** When the secondary is killed, as a share of the run. */
const CHAOS_AT = 0.4;
const EXIT_USAGE = 2;

const USAGE = `usage: node scripts/demo.mjs [--duration-s N] [--sessions N] [--no-chaos] [--json]

  --duration-s N   how long to run the workload, in seconds (default 15)
  --sessions N     concurrent call sessions ("lines"), 1-5000 (default 300)
  --no-chaos       do not kill and restart the secondary during the run
  --json           print the final summary as one JSON line on stdout
                   (progress lines then go to stderr)
  -h, --help       show this help`;

function usageError(message) {
  process.stderr.write(`demo: ${message}\n\n${USAGE}\n`);
  process.exit(EXIT_USAGE);
}

function parseArgs(argv) {
  const options = { durationS: 15, sessions: 300, json: false, chaos: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) usageError(`${name} needs a value`);
      i += 1;
      return next;
    };
    const flag = () => {
      if (inline !== undefined) usageError(`${name} takes no value`);
    };
    switch (name) {
      case '--duration-s': {
        const text = value();
        const n = Number(text);
        if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 86_400) {
          usageError(`--duration-s must be a positive number of seconds, at most 86400, got "${text}"`);
        }
        options.durationS = n;
        break;
      }
      case '--sessions': {
        const text = value();
        const n = Number(text);
        if (text.trim() === '' || !Number.isInteger(n) || n < 1 || n > 5_000) {
          usageError(`--sessions must be an integer from 1 to 5000, got "${text}"`);
        }
        options.sessions = n;
        break;
      }
      case '--json':
        flag();
        options.json = true;
        break;
      case '--no-chaos':
        flag();
        options.chaos = false;
        break;
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        usageError(`unknown argument "${arg}"`);
    }
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
/** Progress goes to stdout, or to stderr when stdout carries the JSON summary. */
const progressOut = options.json ? process.stderr : process.stdout;
const say = (line) => progressOut.write(`${line}\n`);

if (!existsSync(CLI) || !existsSync(SDK) || !existsSync(PROTO_LOADER)) {
  process.stderr.write('demo: dist/ is missing; build first with `npm run build` (or run `npm run demo`)\n');
  process.exit(1);
}
const { BatonClient, RemoteError } = await import(SDK);
const { loadBatonProto } = await import(PROTO_LOADER);
const { credentials } = await import('@grpc/grpc-js');

// ---------------------------------------------------------------- helpers

const random = (min, max) => min + Math.random() * (max - min);
const chance = (p) => Math.random() < p;
const pick = (...items) => items[Math.floor(Math.random() * items.length)];
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms) => `${(ms / 1_000).toFixed(1)} s`;

/** Resolves with the promise's value, or with `fallback` after `ms`. */
function within(promise, ms, fallback) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(fallback), ms);
    }),
  ]);
}

/** Polls `probe` every 100 ms until it returns something other than undefined; undefined after `ms`. */
async function until(ms, probe) {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) return undefined;
    await delay(100);
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * `count` distinct ports that were free a moment ago on 127.0.0.1: all are
 * bound at once (so they differ), read and released. Fixed ports, because
 * each node is told the other's control address before either starts, and a
 * restarted node must come back where it was.
 */
async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
  }
}

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

// -------------------------------------------------------------- processes

const children = new Set();

/**
 * A child process in its own process group (a Ctrl-C in the terminal
 * reaches the demo only; the demo decides when children stop), its output
 * read line by line for its whole life (or its pipe fills up).
 */
class Child {
  constructor(label, command, args, onLine) {
    this.label = label;
    this.tail = [];
    this.exitCode = undefined;
    this.exitSignal = undefined;
    this.child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(this);
    this.spawned = new Promise((resolve) => {
      this.child.once('spawn', () => resolve(true));
      this.child.once('error', (err) => {
        this.remember(`spawn error: ${err.message}`);
        resolve(false);
      });
    });
    this.exited = new Promise((resolve) => {
      const done = (code, signal) => {
        children.delete(this);
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      };
      this.child.once('exit', done);
      this.child.once('error', () => done(null, null));
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.remember(line);
      onLine?.(line);
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => this.remember(`stderr: ${line}`));
  }

  get pid() {
    return this.child.pid;
  }

  get running() {
    return this.exitCode === undefined && this.exitSignal === undefined;
  }

  remember(line) {
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
  }

  describeExit() {
    if (this.running) return 'running';
    return this.exitSignal ? `signal ${this.exitSignal}` : `exit code ${this.exitCode}`;
  }

  /** SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT_MS. */
  async stop() {
    const started = performance.now();
    if (this.running) this.child.kill('SIGTERM');
    const inTime = await within(this.exited.then(() => true), STOP_TIMEOUT_MS, false);
    if (!inTime) {
      this.kill();
      await within(this.exited, 5_000, undefined);
    }
    return { stopMs: Math.round(performance.now() - started), killed: !inTime };
  }

  kill() {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** Never leave a child behind, whatever happens to this process. */
function killAll() {
  for (const child of children) child.kill();
}

/** A private redis-server on a free port, keeping nothing on disk. */
class RedisProcess extends Child {
  constructor(port, dir) {
    super('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
    this.port = port;
    this.dir = dir;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** True once it answers PING; false when it exited or did not answer in time. */
  async ready() {
    if (!(await this.spawned)) return false;
    const ok = await until(READY_TIMEOUT_MS, async () => {
      if (!this.running) return false;
      return (await this.ping()) ? true : undefined;
    });
    return ok === true;
  }

  ping() {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      let answer = '';
      const done = (ok) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.on('error', () => done(false));
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        answer += chunk.toString();
        if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
      });
    });
  }
}

/** One `baton daemon` process of the pair; its JSON log lines are parsed as they come. */
class NodeProcess extends Child {
  constructor(name, args) {
    const seen = { warnings: [], ready: false, stoppedLogged: false, killed: false };
    let onReady = () => {};
    super(`node ${name}`, process.execPath, [CLI, 'daemon', ...args], (line) => {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg === 'node ready') {
        seen.ready = true;
        onReady({ sessionAddress: entry.sessionAddress, controlAddress: entry.controlAddress });
      }
      if (typeof entry.level === 'number' && entry.level >= 40) seen.warnings.push(entry.msg);
      if (entry.msg === 'node state stopping -> stopped') seen.stoppedLogged = true;
    });
    this.name = name;
    /** Messages of the warnings and errors it logged, in order. */
    this.warnings = seen.warnings;
    this.seen = seen;
    this.readyPromise = new Promise((resolve) => {
      onReady = resolve;
    });
  }

  /** The addresses from its "node ready" log line; undefined when it exited or took too long. */
  ready() {
    return within(
      Promise.race([this.readyPromise, this.exited.then(() => undefined)]),
      READY_TIMEOUT_MS,
      undefined,
    );
  }
}

/** The pair: fixed addresses chosen up front, node "a" primary, node "b" secondary. */
class Pair {
  constructor(ports, redisUrl) {
    const [listenA, controlA, listenB, controlB] = ports.map((p) => `127.0.0.1:${p}`);
    this.redisUrl = redisUrl;
    this.addr = {
      a: { listen: listenA, control: controlA },
      b: { listen: listenB, control: controlB },
    };
    this.nodes = { a: undefined, b: undefined };
    /** Processes that were killed on purpose (the chaos step). */
    this.killed = [];
    const proto = loadBatonProto();
    // Reconnect quickly after a node comes back, so the status of a restarted node shows at once.
    const channel = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 };
    this.control = {
      a: new proto.baton.v1.ControlService(controlA, credentials.createInsecure(), channel),
      b: new proto.baton.v1.ControlService(controlB, credentials.createInsecure(), channel),
    };
  }

  /** Every daemon flag of one node; a restart uses the same. */
  args(name) {
    const self = this.addr[name];
    const peer = this.addr[name === 'a' ? 'b' : 'a'];
    return [
      '--node-id', name,
      '--role', name === 'a' ? 'primary' : 'secondary',
      '--cluster', CLUSTER,
      '--listen', self.listen,
      '--control', self.control,
      '--peer', peer.control,
      ...(this.redisUrl === undefined ? [] : ['--redis', this.redisUrl]),
      ...HANDLERS.flatMap((h) => ['--handler', h]),
      '--durability', 'sync',
    ];
  }

  start(name) {
    const node = new NodeProcess(name, this.args(name));
    this.nodes[name] = node;
    return node;
  }

  /** The session API addresses for the SDK: the secondary first, to show that redirects work. */
  get sessionAddresses() {
    return [this.addr.b.listen, this.addr.a.listen];
  }

  /** A node's status from its ControlService; undefined when it does not answer. */
  status(name, timeoutMs = CONTROL_TIMEOUT_MS) {
    return new Promise((resolve) => {
      this.control[name].Status({}, { deadline: Date.now() + timeoutMs }, (err, res) => resolve(err ? undefined : res));
    });
  }

  statuses(timeoutMs) {
    return Promise.all([this.status('a', timeoutMs), this.status('b', timeoutMs)]);
  }

  /** Every record a node holds (owned and replicated), ordered by session id. */
  records(name) {
    return new Promise((resolve, reject) => {
      const out = [];
      const call = this.control[name].ListRecords({ owner: '' }, { deadline: Date.now() + 10_000 });
      call.on('data', (r) => out.push(r));
      call.on('end', () => resolve(out));
      call.on('error', reject);
    });
  }

  /**
   * Waits (bounded) until b streams a's log and has stored and acknowledged
   * everything a has written so far. Returns both statuses, or undefined.
   */
  inSync(timeoutMs = SYNC_TIMEOUT_MS) {
    return until(timeoutMs, async () => {
      const [a, b] = await this.statuses();
      const ra = a?.replication;
      const rb = b?.replication;
      if (ra == null || rb == null) return undefined;
      const synced =
        rb.upstreamState === 'streaming' && rb.inSync && ra.replicaAttached && rb.upstreamOffset === ra.offset && ra.replicaAckedOffset === ra.offset;
      return synced ? { a, b } : undefined;
    });
  }

  /**
   * Waits (bounded) until b streams again and holds at least what a had
   * written when asked (a keeps writing under load). Returns b's status.
   */
  caughtUp(timeoutMs = SYNC_TIMEOUT_MS) {
    return until(timeoutMs, async () => {
      const a = await this.status('a');
      const b = await this.status('b');
      const ra = a?.replication;
      const rb = b?.replication;
      if (ra == null || rb == null) return undefined;
      return rb.upstreamState === 'streaming' && rb.inSync && ra.replicaAttached && rb.upstreamOffset >= ra.offset ? { a, b } : undefined;
    });
  }

  closeControl() {
    this.control.a.close();
    this.control.b.close();
  }
}

/** Both nodes' statuses through the real CLI: `baton status --json`. */
function cliStatus(pair) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'status', '--control', `${pair.addr.a.control},${pair.addr.b.control}`, '--json'],
      { timeout: 10_000 },
      (_err, stdout) => {
        try {
          const reports = JSON.parse(stdout);
          resolve(reports.map((r) => (r.reachable ? r.status : undefined)));
        } catch {
          resolve([undefined, undefined]);
        }
      },
    );
  });
}

/** What a record is, field by field, for comparing a's copy with b's. */
function recordKey(r) {
  return JSON.stringify({
    sessionType: r.sessionType,
    version: r.version,
    owner: r.owner,
    schemaVersion: r.schemaVersion,
    state: Buffer.from(r.state).toString('base64'),
    timers: r.timers.map((t) => [t.timerId, t.deadlineMs, Buffer.from(t.payload).toString('base64')]),
    dedupe: r.dedupe.map((d) => [d.opId, d.version, Buffer.from(d.reply).toString('base64')]),
    createdAtMs: r.createdAtMs,
    updatedAtMs: r.updatedAtMs,
  });
}

/** Compares every record a holds with b's copy: same sessions, same fields. */
function compareRecords(recordsA, recordsB) {
  const byId = new Map(recordsB.map((r) => [r.sessionId, r]));
  let identical = 0;
  const differences = [];
  for (const r of recordsA) {
    const copy = byId.get(r.sessionId);
    byId.delete(r.sessionId);
    if (copy === undefined) differences.push(`${r.sessionId}: on a (v${r.version}), missing on b`);
    else if (recordKey(copy) !== recordKey(r)) {
      const fieldsA = JSON.parse(recordKey(r));
      const fieldsB = JSON.parse(recordKey(copy));
      const fields = Object.keys(fieldsA).filter((k) => JSON.stringify(fieldsA[k]) !== JSON.stringify(fieldsB[k]));
      differences.push(`${r.sessionId}: ${fields.join(', ')} differ (a v${r.version}, b v${copy.version})`);
    } else identical += 1;
  }
  for (const r of byId.values()) differences.push(`${r.sessionId}: on b (v${r.version}), missing on a`);
  return { onA: recordsA.length, onB: recordsB.length, identical, differences: differences.length, samples: differences.slice(0, 3) };
}

// --------------------------------------------------------------- workload

const stats = {
  callsOpened: 0,
  /** Calls whose open answer named a as the owner (the client asked b first). */
  openedOnA: 0,
  openNow: 0,
  opsApplied: 0,
  duplicatesAbsorbed: 0,
  /** Extra attempts the SDK made for acknowledged operations (timeouts, a node going away). */
  retries: 0,
  endedHangup: 0,
  endedNoAnswer: 0,
  lateAnswersRefused: 0,
  /** Operations the handler refused as it should: answers and hangups after the ring timeout ended the call. */
  refused: 0,
  errors: 0,
  errorSamples: new Map(),
  latenciesMs: [],
};

let stopping = false;
/** Set when the primary exited on its own; calls failing after that are not counted one by one. */
let primaryGone = false;
const wakeups = new Set();

/** Sleeps `ms`, or less when the run is stopping. */
function sleep(ms) {
  if (stopping) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      wakeups.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    wakeups.add(done);
  });
}

function stopWorkload() {
  stopping = true;
  for (const wake of [...wakeups]) wake();
  for (const wake of openQueue.splice(0)) wake();
}

function recordError(err) {
  stats.errors += 1;
  const key = err instanceof RemoteError || err?.code ? String(err.code) : 'ERROR';
  if (!stats.errorSamples.has(key)) stats.errorSamples.set(key, err instanceof Error ? err.message : String(err));
}

/** Sessions this run opened and has not closed, with whether their end was counted. */
const openSessions = new Map();

/**
 * One phone line: places calls one after another until the run stops.
 * The mix per call: 70 % answered (talk 1-6 s with 0-2 holds, then a
 * hangup by either side), 10 % abandoned by the caller while ringing,
 * 20 % never answered (the ring-timeout timer ends them; a quarter of those
 * get a late answer that the handler refuses).
 */
async function line(client, lineNo) {
  // Lines come on over the first second, as callers would, not all at once.
  await sleep(random(0, 1_000));
  while (!stopping) {
    try {
      await placeCall(client, lineNo);
    } catch (err) {
      // Once the primary is gone every call fails; that is reported once, elsewhere.
      if (!primaryGone) recordError(err);
      await sleep(random(100, 300));
    }
    await sleep(random(0, 300));
  }
}

/**
 * Opens in flight at once. Opens are unary calls: a burst of thousands on
 * one connection would queue past the SDK's per-attempt timeout.
 */
const MAX_OPENS_IN_FLIGHT = 64;
let opensInFlight = 0;
const openQueue = [];

/** Waits for an open slot; false when the run stopped meanwhile. */
async function acquireOpenSlot() {
  while (opensInFlight >= MAX_OPENS_IN_FLIGHT) {
    if (stopping) return false;
    await new Promise((resolve) => openQueue.push(resolve));
  }
  if (stopping) return false;
  opensInFlight += 1;
  return true;
}

function releaseOpenSlot() {
  opensInFlight -= 1;
  openQueue.shift()?.();
}

async function apply(client, sessionId, op, extra = {}) {
  const started = performance.now();
  const result = await client.apply(sessionId, op, {
    transport: chance(0.1) ? 'unary' : 'stream',
    ...extra,
  });
  // Latency of the steady workload only, not of the burst that ends the run.
  if (!stopping) stats.latenciesMs.push(performance.now() - started);
  // A deliberate resend (same op id) is not a new operation. An automatic
  // retry is: its first attempt may have been applied, and the retry is then
  // answered from the dedupe window.
  if (extra.opId === undefined) stats.opsApplied += 1;
  stats.retries += result.attempts - 1;
  return result;
}

async function placeCall(client, lineNo) {
  if (!(await acquireOpenSlot())) return;
  let session;
  try {
    session = await client.open('call', {
      params: { from: `line-${lineNo}`, to: pick('alice', 'bob', 'carol', 'dave', 'erin'), ringTimeoutMs: RING_TIMEOUT_MS },
    });
  } finally {
    releaseOpenSlot();
  }
  const id = session.sessionId;
  stats.callsOpened += 1;
  if (session.owner === 'a') stats.openedOnA += 1;
  stats.openNow += 1;
  openSessions.set(id, { counted: false });
  const ended = (how) => {
    const entry = openSessions.get(id);
    if (entry === undefined || entry.counted) return;
    entry.counted = true;
    if (how === 'no-answer') stats.endedNoAnswer += 1;
    else stats.endedHangup += 1;
  };

  const roll = Math.random();
  if (roll < 0.7) {
    await sleep(random(200, 1_500));
    if (stopping) return;
    if (!(await whileRinging(client, id, { type: 'answer' }, ended))) return close(client, id);
    const talkMs = random(1_000, 6_000);
    const holds = chance(0.6) ? 0 : chance(0.75) ? 1 : 2;
    const talkStarted = performance.now();
    for (let h = 0; h < holds && !stopping; h++) {
      await sleep(random(200, talkMs / (holds + 1)));
      if (stopping) return;
      await apply(client, id, { type: 'hold' });
      await sleep(random(200, 1_000));
      if (stopping) return;
      await apply(client, id, { type: 'resume' });
    }
    await sleep(Math.max(0, talkMs - (performance.now() - talkStarted)));
    if (stopping) return;
    await hangup(client, id, pick(`line-${lineNo}`, 'callee'));
    ended('hangup');
  } else if (roll < 0.8) {
    await sleep(random(200, 1_500));
    if (stopping) return;
    if (await whileRinging(client, id, { type: 'hangup', by: `line-${lineNo}` }, ended)) ended('hangup');
  } else {
    // Nobody answers: the handler's ring-timeout timer must end the call.
    await sleep(RING_TIMEOUT_MS + 300);
    if (stopping) return;
    if (!(await endedByTimer(client, id))) {
      throw new Error(`call ${id} still rings ${RING_TIMEOUT_MS + 2_300} ms after it was opened: its ring-timeout timer did not fire`);
    }
    ended('no-answer');
    if (chance(0.25)) {
      // The callee picks up too late: the handler refuses, nothing changes.
      try {
        await apply(client, id, { type: 'answer' });
        throw new Error(`call ${id}: a late answer was accepted after the ring timeout`);
      } catch (err) {
        if (!(err instanceof RemoteError && err.handlerCode === 'INVALID_TRANSITION')) throw err;
        stats.lateAnswersRefused += 1;
        stats.refused += 1;
      }
    }
  }
  await close(client, id);
}

async function close(client, id) {
  await client.close(id);
  openSessions.delete(id);
  stats.openNow -= 1;
}

/**
 * Applies an answer or a hangup to a ringing call. Under load the reply to
 * the open can reach the client so late that the ring timeout has already
 * ended the call; the handler then refuses with INVALID_TRANSITION, which is
 * the right outcome, not an error. Returns false in that case.
 */
async function whileRinging(client, id, op, ended) {
  try {
    await apply(client, id, op);
    return true;
  } catch (err) {
    if (!(err instanceof RemoteError && err.handlerCode === 'INVALID_TRANSITION')) throw err;
    const s = await client.get(id);
    if (s.state.endReason !== 'no-answer') throw err;
    stats.refused += 1;
    ended('no-answer');
    return false;
  }
}

/** Hangs up; now and then sends the same operation again to show it is applied once. */
async function hangup(client, id, by) {
  const first = await apply(client, id, { type: 'hangup', by });
  if (chance(0.05)) {
    const again = await apply(client, id, { type: 'hangup', by }, { opId: first.opId });
    if (!again.deduplicated || again.version !== first.version) {
      throw new Error(`call ${id}: a resent hangup (op id ${first.opId}) was applied twice`);
    }
    stats.duplicatesAbsorbed += 1;
  }
}

/** Polls the session (bounded) until its ring timeout ended it. */
async function endedByTimer(client, id) {
  for (let i = 0; i < 20; i++) {
    const s = await client.get(id);
    if (s.state.status === 'ended') return s.state.endReason === 'no-answer';
    await sleep(100);
    if (stopping) return false;
  }
  return false;
}

/**
 * After the run: hangs up every call still in progress, so every session
 * ends and holds no pending timer. A hangup that races the ring timeout is
 * refused (the call already ended as "no-answer"), which is counted as such.
 */
async function hangUpCallsInProgress(client) {
  await Promise.all(
    [...openSessions].map(async ([id, entry]) => {
      if (entry.counted) return;
      try {
        try {
          await apply(client, id, { type: 'hangup', by: 'demo-end' });
          stats.endedHangup += 1;
        } catch (err) {
          if (!(err instanceof RemoteError && err.handlerCode === 'INVALID_TRANSITION')) throw err;
          stats.refused += 1;
          const s = await client.get(id);
          if (s.state.endReason === 'no-answer') stats.endedNoAnswer += 1;
          else stats.endedHangup += 1;
        }
        entry.counted = true;
      } catch (err) {
        recordError(err);
      }
    }),
  );
}

/** Closes every session this run opened, so both nodes end with none. */
async function closeSessions(client) {
  await Promise.all(
    [...openSessions.keys()].map(async (id) => {
      try {
        await close(client, id);
      } catch (err) {
        recordError(err);
      }
    }),
  );
}

// ------------------------------------------------------------------ chaos

/**
 * Kills the secondary with SIGKILL, lets the primary run solo for a while
 * under load, restarts the secondary with the same flags and waits until it
 * has resynced and caught up. Always brings b back, even when the run is
 * interrupted meanwhile, so the end can compare both nodes.
 */
async function chaos(pair, started, durationMs) {
  const result = {
    killedAtS: null,
    soloWarning: null,
    downMs: null,
    soloMs: null,
    restartedAtS: null,
    readyMs: null,
    resyncPath: null,
    caughtUpMs: null,
    caughtUpOffset: null,
    ok: false,
    problem: null,
  };
  const at = (t) => Math.round((t - started) / 100) / 10;
  const fail = (problem) => {
    result.problem = problem;
    say(`chaos: ${problem}`);
    return result;
  };
  const victim = pair.nodes.b;
  say(`chaos: kill -9 node b (the secondary, pid ${victim.pid}); the client keeps calling`);
  const killedAt = performance.now();
  result.killedAtS = at(killedAt);
  victim.seen.killed = true;
  victim.kill();
  pair.killed.push(victim);
  await within(victim.exited, 5_000, undefined);

  const solo = await until(5_000, async () => {
    const a = await pair.status('a');
    return a?.replication?.solo ? a : undefined;
  });
  if (solo === undefined) return fail('a did not report running solo within 5 s of the kill');
  result.soloWarning = solo.warnings.find((w) => w.includes('solo')) ?? solo.warnings[0] ?? '(no warning)';
  say(`chaos: a now runs solo; its status warns: "${result.soloWarning}"`);

  // Solo for a while under load: 15 % of the run, 1 to 3 s.
  await sleep(Math.min(3_000, Math.max(1_000, 0.15 * durationMs)));

  const restartedAt = performance.now();
  result.restartedAtS = at(restartedAt);
  result.downMs = Math.round(restartedAt - killedAt);
  say(`chaos: restarting node b with the same flags after ${seconds(result.downMs)} down`);
  const b = pair.start('b');
  if ((await b.ready()) === undefined) {
    return fail(`b did not come back within ${READY_TIMEOUT_MS / 1_000} s (${b.describeExit()}): ${b.tail.slice(-3).join(' | ')}`);
  }
  result.readyMs = Math.round(performance.now() - restartedAt);
  const caught = await pair.caughtUp();
  if (caught === undefined) return fail(`b did not catch up within ${SYNC_TIMEOUT_MS / 1_000} s of its restart`);
  result.caughtUpMs = Math.round(performance.now() - restartedAt);
  result.soloMs = Math.round(performance.now() - killedAt);
  result.resyncPath = caught.b.replication.resyncPath || 'none';
  result.caughtUpOffset = caught.b.replication.upstreamOffset;
  const how = {
    partial: "partial: resumed from a's backlog at the position its Redis snapshot held",
    'full-redis': "full-redis: reloaded a's sessions from the Redis snapshot, then resumed from a's backlog",
    'full-stream': 'full-stream: a streamed every session it owns, then its log',
  }[result.resyncPath] ?? result.resyncPath;
  say(
    `chaos: b ready ${seconds(result.readyMs)} after the restart; resynced (${how}) and caught up at offset ${result.caughtUpOffset} after ${seconds(result.caughtUpMs)}; a has its replica again${caught.a.replication.solo ? ' (but still reports solo)' : ''}`,
  );
  result.ok = ['partial', 'full-redis', 'full-stream'].includes(result.resyncPath) && !caught.a.replication.solo;
  return result;
}

// -------------------------------------------------------------------- run

async function main() {
  const durationMs = options.durationS * 1_000;
  process.on('exit', killAll);
  let redisDir;
  process.on('exit', () => {
    if (redisDir !== undefined) rmSync(redisDir, { recursive: true, force: true });
  });
  const watchdog = setTimeout(
    () => {
      process.stderr.write('demo: watchdog: the run took far longer than planned; killing every process it started\n');
      killAll();
      process.exit(1);
    },
    durationMs + 2 * READY_TIMEOUT_MS + 3 * SYNC_TIMEOUT_MS + WIND_DOWN_TIMEOUT_MS + 2 * STOP_TIMEOUT_MS + 60_000,
  );
  watchdog.unref();

  let interrupted = false;
  let signals = 0;
  let endRun = () => {};
  const runOver = new Promise((resolve) => {
    endRun = resolve;
  });
  const onSignal = (signal) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`demo: second ${signal}: killing every process the demo started\n`);
      killAll();
      process.exit(130);
    }
    interrupted = true;
    say(`(${signal}: stopping; press Ctrl-C again to kill everything at once)`);
    endRun();
    stopWorkload();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  const fatal = (message, ...procs) => {
    process.stderr.write(`demo: ${message}\n`);
    for (const p of procs) if (p !== undefined) process.stderr.write(`--- ${p.label} (last lines)\n${p.tail.join('\n')}\n`);
    killAll();
    return 1;
  };

  // Redis, unless it is not installed.
  const [listenA, controlA, listenB, controlB, redisPort] = await freePorts(5);
  let redis;
  if (onPath('redis-server')) {
    redisDir = mkdtempSync(join(tmpdir(), 'baton-demo-redis-'));
    redis = new RedisProcess(redisPort, redisDir);
    if (!(await redis.ready())) return fatal(`redis-server did not answer PING on 127.0.0.1:${redisPort} within ${READY_TIMEOUT_MS / 1_000} s`, redis);
    say(`redis-server (pid ${redis.pid}) on 127.0.0.1:${redisPort}, no persistence, in ${redisDir}`);
  } else {
    say('redis-server is not on the PATH: running the pair without Redis (snapshots off)');
  }

  // The pair: both nodes at once, each pointed at the other's control address.
  const pair = new Pair([listenA, controlA, listenB, controlB], redis?.url);
  const a = pair.start('a');
  const b0 = pair.start('b');
  const [readyA, readyB] = await Promise.all([a.ready(), b0.ready()]);
  if (readyA === undefined || readyB === undefined) {
    return fatal(`a node did not log "node ready" within ${READY_TIMEOUT_MS / 1_000} s (a: ${a.describeExit()}, b: ${b0.describeExit()})`, a, b0);
  }
  say(`node a (primary, pid ${a.pid}): sessions ${pair.addr.a.listen}, control ${pair.addr.a.control}`);
  say(`node b (secondary, pid ${b0.pid}): sessions ${pair.addr.b.listen}, control ${pair.addr.b.control}`);
  const synced = await pair.inSync();
  if (synced === undefined) return fatal(`b did not stream a's log within ${SYNC_TIMEOUT_MS / 1_000} s`, a, b0);
  say(
    `pair in sync: b streams a's log (first sync: ${synced.b.replication.resyncPath || 'none'}), --durability sync, cluster "${CLUSTER}"${redis === undefined ? ', no Redis' : ', snapshots in Redis'}`,
  );
  say(
    `driving ${options.sessions} call lines for ${options.durationS} s (ring timeout ${RING_TIMEOUT_MS} ms) through the SDK with nodes [b, a]${options.chaos ? `; kill -9 of b at ${Math.round(CHAOS_AT * options.durationS * 10) / 10} s` : ''}; Ctrl-C stops early`,
  );

  const client = new BatonClient({ nodes: pair.sessionAddresses, deadlineMs: CALL_DEADLINE_MS });
  const started = performance.now();
  const lines = Array.from({ length: options.sessions }, (_, i) => line(client, i + 1));

  // Progress, once a second, with both nodes' replication state.
  let lastOps = 0;
  let lastAt = started;
  let polling = false;
  const progress = setInterval(async () => {
    if (polling) return;
    polling = true;
    try {
      const now = performance.now();
      const rate = ((stats.opsApplied - lastOps) * 1_000) / (now - lastAt);
      lastOps = stats.opsApplied;
      lastAt = now;
      const t = Math.round((now - started) / 1_000);
      const [sa, sb] = await pair.statuses(800);
      const ra = sa?.replication;
      const rb = sb?.replication;
      let replica;
      if (ra == null) replica = 'primary a UNREACHABLE';
      else if (rb == null) {
        const b = pair.nodes.b;
        const state = !b.running || b.seen.killed ? 'DOWN' : b.seen.ready ? 'not answering' : 'starting';
        replica = `replica b ${state}${ra.solo ? ' (a solo)' : ''}`;
      }
      else if (rb.upstreamState !== 'streaming') replica = `replica b ${rb.upstreamState}`;
      else replica = `replica offset ${rb.upstreamOffset}/${ra.offset} (lag ${Math.max(0, ra.offset - rb.upstreamOffset)})`;
      const snap = sa?.snapshot;
      const redisText =
        snap == null ? 'redis ?' : !snap.configured ? 'redis off' : `redis ${snap.redisConnected ? 'up' : 'DOWN'}, snapshot ${snap.ageMs < 0 ? 'never' : `${(snap.ageMs / 1_000).toFixed(1)}s`}`;
      say(
        `[${String(t).padStart(3)}s] calls ${String(stats.openNow).padStart(4)} | ops ${String(stats.opsApplied).padStart(6)} (${String(Math.round(rate)).padStart(4)}/s) | ended: hangup ${stats.endedHangup}, no-answer ${stats.endedNoAnswer} | ${replica} | ${redisText} | errors ${stats.errors}`,
      );
    } finally {
      polling = false;
    }
  }, 1_000);

  // The chaos step, due at CHAOS_AT of the run; null when it never started.
  let chaosStarted = false;
  let chaosTimer;
  let skipChaos = () => {};
  const chaosTask = !options.chaos
    ? Promise.resolve(null)
    : new Promise((resolve) => {
        skipChaos = () => {
          clearTimeout(chaosTimer);
          if (!chaosStarted) resolve(null);
        };
        chaosTimer = setTimeout(() => {
          if (stopping) return resolve(null);
          chaosStarted = true;
          chaos(pair, started, durationMs).then(resolve, (err) => resolve({ ok: false, problem: String(err?.message ?? err) }));
        }, CHAOS_AT * durationMs);
      });
  const timer = setTimeout(endRun, durationMs);
  a.exited.then(() => {
    primaryGone = true;
    endRun();
  });

  await runOver;
  clearTimeout(timer);
  // The run may end while b is still coming back: keep driving until the chaos step is over.
  skipChaos();
  if (chaosStarted && !interrupted && !primaryGone) {
    const pending = await within(chaosTask.then(() => false), 0, true);
    if (pending) {
      say('(the run is over; the chaos step is still under way: driving on until b has caught up)');
      await within(chaosTask, READY_TIMEOUT_MS + SYNC_TIMEOUT_MS + 5_000, undefined);
    }
  }
  const runMs = performance.now() - started;
  stopWorkload();
  const chaosResult = await within(chaosTask, READY_TIMEOUT_MS + SYNC_TIMEOUT_MS + 5_000, { ok: false, problem: 'the chaos step did not finish in time' });
  clearInterval(progress);
  const primaryDiedEarly = !a.running;
  if (primaryDiedEarly) process.stderr.write(`demo: node a exited during the run (${a.describeExit()})\n${a.tail.join('\n')}\n`);
  const b = pair.nodes.b;
  const replicaDiedEarly = !b.running;
  if (replicaDiedEarly) process.stderr.write(`demo: node b exited during the run (${b.describeExit()})\n${b.tail.join('\n')}\n`);

  // Let every line finish the operation it is in; then hang up the calls in
  // progress, compare b's copy of every record with a's, close every session
  // and read both nodes' counters.
  const settled = await within(Promise.allSettled(lines).then(() => true), WIND_DOWN_TIMEOUT_MS, false);
  let replica;
  let final = [undefined, undefined];
  let endSync;
  if (!primaryDiedEarly) {
    say('run over: hanging up the calls in progress, comparing both nodes, closing every session...');
    await within(hangUpCallsInProgress(client), 10_000, undefined);
    if (!replicaDiedEarly && (await pair.inSync(10_000)) !== undefined) {
      try {
        const [recordsA, recordsB] = await Promise.all([pair.records('a'), pair.records('b')]);
        replica = compareRecords(recordsA, recordsB);
      } catch (err) {
        process.stderr.write(`demo: ListRecords failed: ${err.message}\n`);
      }
    }
    await within(closeSessions(client), 10_000, undefined);
    if (!replicaDiedEarly) endSync = await pair.inSync(10_000);
    final = await cliStatus(pair);
  }
  client.shutdown();
  pair.closeControl();

  say(`stopping both nodes (SIGTERM)${redis === undefined ? '' : ', then Redis'}...`);
  // Warnings logged once the pair stops (each node notices its peer leave) are told apart.
  const runWarnings = { a: a.warnings.length, b: b.warnings.length };
  const [stopA, stopB] = await Promise.all([a.stop(), b.stop()]);
  const stopRedis = redis === undefined ? undefined : await redis.stop();
  if (redisDir !== undefined) rmSync(redisDir, { recursive: true, force: true });

  const [finalA, finalB] = final;
  const sorted = stats.latenciesMs.sort((x, y) => x - y);
  // Every operation the client saw succeed, plus every ring timeout that
  // fired, is one operation the primary applied: none lost, none applied
  // twice. Every refusal it counted is one the client expected.
  const checks = {
    applied: finalA !== undefined && settled && finalA.operationsApplied === stats.opsApplied + stats.endedNoAnswer,
    // A refused operation that the SDK retried is refused once per attempt.
    refused: finalA !== undefined && settled && finalA.operationsRefused >= stats.refused,
    drained:
      finalA !== undefined && finalB !== undefined && finalA.sessions === 0 && finalA.pendingTimers === 0 && finalB.sessions === 0 && finalB.pendingTimers === 0,
    replicaIdentical: replica !== undefined && replica.differences === 0 && replica.identical === replica.onA,
    replicaCaughtUp: endSync !== undefined,
    chaos: !options.chaos || interrupted || chaosResult?.ok === true,
  };
  const warningCounts = (list) => {
    const counts = {};
    for (const w of list) counts[w] = (counts[w] ?? 0) + 1;
    return counts;
  };
  const warningsOf = (p, killed = []) => ({
    run: warningCounts([...killed.flatMap((k) => k.warnings), ...p.warnings.slice(0, runWarnings[p.name])]),
    stop: warningCounts(p.warnings.slice(runWarnings[p.name])),
  });
  const nodeSummary = (p, s, stop) => ({
    pid: p.pid,
    stoppedLogged: p.seen.stoppedLogged === true,
    exit: p.describeExit(),
    stopMs: stop.stopMs,
    killed: stop.killed,
    sessions: s?.sessions ?? null,
    pendingTimers: s?.pendingTimers ?? null,
    operationsApplied: s?.operationsApplied ?? null,
    operationsRefused: s?.operationsRefused ?? null,
    offset: s?.replication?.offset ?? null,
    upstreamOffset: s?.replication?.upstreamOffset ?? null,
    resyncPath: s?.replication?.resyncPath ?? null,
  });
  const problems = [];
  if (primaryDiedEarly) problems.push('node a exited during the run');
  if (replicaDiedEarly) problems.push('node b exited during the run');
  if (stats.errors > 0) problems.push(`${stats.errors} client errors`);
  for (const [name, ok] of Object.entries(checks)) if (!ok) problems.push(`check "${name}" failed`);
  for (const [p, stop] of [[a, stopA], [b, stopB]]) {
    if (stop.killed) problems.push(`node ${p.name} did not exit within ${STOP_TIMEOUT_MS / 1_000} s of SIGTERM`);
    else if (p.exitCode !== 0 && !(p === a && primaryDiedEarly) && !(p === b && replicaDiedEarly)) problems.push(`node ${p.name} exited with ${p.describeExit()}`);
  }
  if (stopRedis?.killed) problems.push(`redis-server did not exit within ${STOP_TIMEOUT_MS / 1_000} s of SIGTERM`);
  const clean = problems.length === 0;

  const summary = {
    ok: clean,
    problems,
    durationS: Math.round(runMs / 100) / 10,
    interrupted,
    lines: options.sessions,
    callsOpened: stats.callsOpened,
    callsOpenedOnA: stats.openedOnA,
    opsApplied: stats.opsApplied,
    opsPerSecond: Math.round((stats.opsApplied * 1_000) / runMs),
    applyLatencyMs: { p50: Number(percentile(sorted, 50).toFixed(2)), p99: Number(percentile(sorted, 99).toFixed(2)) },
    endedByHangup: stats.endedHangup,
    endedByNoAnswer: stats.endedNoAnswer,
    refused: stats.refused,
    lateAnswersRefused: stats.lateAnswersRefused,
    duplicatesAbsorbed: stats.duplicatesAbsorbed,
    retries: stats.retries,
    errors: stats.errors,
    errorSamples: Object.fromEntries(stats.errorSamples),
    redis: redis === undefined ? null : { port: redis.port, exit: redis.describeExit(), stopMs: stopRedis.stopMs, killed: stopRedis.killed },
    chaos: options.chaos ? chaosResult : null,
    replica: replica ?? null,
    checks,
    nodes: { a: nodeSummary(a, finalA, stopA), b: nodeSummary(b, finalB, stopB) },
    warnings: { a: warningsOf(a), b: warningsOf(b, pair.killed) },
  };

  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const mark = (ok) => (ok ? 'ok' : 'MISMATCH');
    const out = [
      '',
      `summary (${summary.durationS} s${interrupted ? ', interrupted' : ''})`,
      `  calls opened         ${summary.callsOpened} on ${summary.lines} lines, ${summary.callsOpenedOnA} owned by a (the client lists b first; b redirects opens to a)`,
      `  operations applied   ${summary.opsApplied} (${summary.opsPerSecond}/s), apply latency p50 ${summary.applyLatencyMs.p50} ms, p99 ${summary.applyLatencyMs.p99} ms`,
      `  calls ended          ${summary.endedByHangup} by hangup, ${summary.endedByNoAnswer} by no-answer (ring-timeout timer)`,
      `  refused as expected  ${summary.refused} operations on calls the ring timeout had already ended (${summary.lateAnswersRefused} deliberate late answers)`,
      `  resent operations    ${summary.duplicatesAbsorbed} answered from the dedupe window, not applied again`,
      `  SDK retries          ${summary.retries} extra attempts for acknowledged operations`,
      `  errors               ${summary.errors}${summary.errors > 0 ? ` ${JSON.stringify(summary.errorSamples)}` : ''}`,
    ];
    if (options.chaos) {
      const c = chaosResult;
      out.push(
        c === null
          ? '  chaos                not run (the run ended before it was due)'
          : c.ok
            ? `  chaos                b killed at ${c.killedAtS} s, restarted ${seconds(c.downMs)} later, caught up ${seconds(c.caughtUpMs)} after its restart (${c.resyncPath} resync); a ran solo for ${seconds(c.soloMs)}: ok`
            : `  chaos                ${c.problem ?? `b came back with resync path "${c.resyncPath}"`}: ${interrupted ? 'interrupted' : 'FAILED'}`,
      );
    }
    if (finalA !== undefined && settled) {
      out.push(
        `  a applied            ${finalA.operationsApplied} = ${stats.opsApplied} client operations + ${stats.endedNoAnswer} timers fired: ${mark(checks.applied)}`,
        `  a refused            ${finalA.operationsRefused} ${finalA.operationsRefused === stats.refused ? '=' : '>='} ${stats.refused} expected refusals${finalA.operationsRefused > stats.refused ? ' (retried refusals count once per attempt)' : ''}: ${mark(checks.refused)}`,
      );
    } else {
      out.push(`  a counters           not checked (${primaryDiedEarly ? 'node a exited during the run' : 'the node or the workload did not answer in time'})`);
    }
    out.push(
      replica === undefined
        ? '  b holds a copy       not compared (b was not in sync with a)'
        : `  b holds a copy       ${replica.identical} of ${replica.onA} records identical to a's (version, state, timers, dedupe window)${replica.differences > 0 ? `; ${replica.differences} differ: ${replica.samples.join('; ')}` : ''}: ${mark(checks.replicaIdentical)}`,
    );
    if (finalA !== undefined && finalB !== undefined) {
      out.push(
        `  after the closes     a ${finalA.sessions} sessions, ${finalA.pendingTimers} pending timers; b ${finalB.sessions} sessions: ${mark(checks.drained)}`,
        `  replication          a at offset ${finalA.replication.offset}, b at ${finalB.replication.upstreamOffset}: ${mark(checks.replicaCaughtUp)}`,
      );
    }
    const stopped = (p, stop) =>
      stop.killed
        ? `did not exit within ${STOP_TIMEOUT_MS / 1_000} s of SIGTERM${p.seen.stoppedLogged ? ' (it logged "stopping -> stopped" but its process stayed up)' : ''}: killed (${p.describeExit()})`
        : `stopped ${stop.stopMs} ms after SIGTERM (${p.describeExit()})`;
    const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
    const warned = ({ run, stop }) => {
      const entries = Object.entries(run);
      const total = entries.reduce((n, [, c]) => n + c, 0);
      const whileStopping = Object.values(stop).reduce((n, c) => n + c, 0);
      const list = entries.length === 0 ? '' : ` (${entries.slice(0, 3).map(([m, c]) => `${c}x "${m}"`).join(', ')}${entries.length > 3 ? ', ...' : ''})`;
      return `${plural(total, 'warning')} logged during the run${list}, ${whileStopping} while stopping`;
    };
    out.push(
      `  node a               ${stopped(a, stopA)}, ${warned(summary.warnings.a)}`,
      `  node b               ${stopped(b, stopB)}, ${warned(summary.warnings.b)}`,
    );
    if (summary.redis !== null) out.push(`  redis-server         stopped ${summary.redis.stopMs} ms after SIGTERM (${summary.redis.exit})`);
    out.push(`  result               ${clean ? 'every check holds' : `FAILED: ${problems.join('; ')}`}`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return clean ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    // The clients and the watchdog hold no handles now; exit without waiting on stray timers.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (err) => {
    process.stderr.write(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAll();
    process.exit(1);
  },
);
