// Runs a real Baton node under a phone-call workload and reports what it did.
//
//   node scripts/demo.mjs [--duration-s N] [--sessions N] [--json]
//
// Starts `baton daemon` (dist/cli/main.js) as a child process with the
// example counter and call handlers on free ports, then drives call sessions
// through the client SDK: each "line" opens a call, lets it ring, answers,
// holds, resumes and hangs up at random, or leaves it ringing so the
// handler's ring-timeout timer ends it as "no-answer"; then it closes the
// session and places the next call. After --duration-s seconds (or Ctrl-C)
// it stops the workload, hangs up the calls still in progress and closes
// their sessions, reads the node's own counters with `baton status` and
// checks them against the client's (every acknowledged operation applied
// once, every fired timer counted, nothing left behind), sends SIGTERM to
// the daemon, waits for it to exit and prints a summary. Exit code: 0 when
// every check holds, 1 otherwise, 2 on a bad flag.
//
// Every wait is bounded: a daemon that does not exit within 15 s of SIGTERM
// is killed with SIGKILL, and a watchdog ends the whole run if anything hangs.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const SDK = join(ROOT, 'dist', 'index.js');
const HANDLERS = [
  `counter=${join(ROOT, 'examples', 'handlers', 'counter')}`,
  `call=${join(ROOT, 'examples', 'handlers', 'call')}`,
];

/** Ring timeout of every demo call: short, so no-answer timers fire during the run. */
const RING_TIMEOUT_MS = 2_000;
const READY_TIMEOUT_MS = 15_000;
/** How long SIGTERM may take before the daemon is killed with SIGKILL. */
const STOP_TIMEOUT_MS = 15_000;
/** How long the lines get to finish the operation they are in after the run ends. */
const WIND_DOWN_TIMEOUT_MS = 8_000;
/** Time budget of one SDK call, retries included. */
const CALL_DEADLINE_MS = 5_000;
const EXIT_USAGE = 2;

const USAGE = `usage: node scripts/demo.mjs [--duration-s N] [--sessions N] [--json]

  --duration-s N   how long to run the workload, in seconds (default 15)
  --sessions N     concurrent call sessions ("lines"), 1-5000 (default 300)
  --json           print the final summary as one JSON line on stdout
                   (progress lines then go to stderr)
  -h, --help       show this help`;

function usageError(message) {
  process.stderr.write(`demo: ${message}\n\n${USAGE}\n`);
  process.exit(EXIT_USAGE);
}

function parseArgs(argv) {
  const options = { durationS: 15, sessions: 300, json: false };
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
        if (inline !== undefined) usageError('--json takes no value');
        options.json = true;
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

if (!existsSync(CLI) || !existsSync(SDK)) {
  process.stderr.write('demo: dist/ is missing; build first with `npm run build` (or run `npm run demo`)\n');
  process.exit(1);
}
const { BatonClient, RemoteError } = await import(SDK);

// ---------------------------------------------------------------- helpers

const random = (min, max) => min + Math.random() * (max - min);
const chance = (p) => Math.random() < p;
const pick = (...items) => items[Math.floor(Math.random() * items.length)];

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

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ----------------------------------------------------------------- daemon

/** A `baton daemon` child process; its JSON log lines are parsed as they come. */
class Daemon {
  constructor() {
    this.warnings = [];
    this.tail = [];
    this.exitCode = undefined;
    this.exitSignal = undefined;
    // Its own process group: a Ctrl-C in the terminal reaches the demo, and
    // the demo decides when the daemon stops.
    this.child = spawn(
      process.execPath,
      [CLI, 'daemon', '--node-id', 'demo', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', ...HANDLERS.flatMap((h) => ['--handler', h])],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.exited.then(() => reject(new Error(`the daemon exited before it was ready (${this.describeExit()})`)));
      // Keep reading stdout for the daemon's whole life, or its pipe fills up.
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        this.remember(line);
        let entry;
        try {
          entry = JSON.parse(line);
        } catch {
          return;
        }
        if (entry.msg === 'node ready') resolve({ sessionAddress: entry.sessionAddress, controlAddress: entry.controlAddress });
        if (typeof entry.level === 'number' && entry.level >= 40) this.warnings.push(entry);
      });
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => this.remember(`stderr: ${line}`));
  }

  get running() {
    return this.exitCode === undefined && this.exitSignal === undefined;
  }

  remember(line) {
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
  }

  describeExit() {
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

/** The node's own counters, through the real CLI: `baton status --json`. */
function nodeStatus(controlAddress) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'status', '--control', controlAddress, '--json'],
      { timeout: 5_000 },
      (_err, stdout) => {
        try {
          const [report] = JSON.parse(stdout);
          resolve(report?.reachable ? report.status : undefined);
        } catch {
          resolve(undefined);
        }
      },
    );
  });
}

// --------------------------------------------------------------- workload

const stats = {
  callsOpened: 0,
  openNow: 0,
  opsApplied: 0,
  duplicatesAbsorbed: 0,
  /** Extra attempts the SDK made for acknowledged operations (timeouts under load). */
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
/** Set when the daemon exited on its own; calls failing after that are not counted one by one. */
let daemonGone = false;
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
      // Once the daemon is gone every call fails; that is reported once, elsewhere.
      if (!daemonGone) recordError(err);
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
 * After the run: hangs up every call still in progress and closes every
 * session this run opened, so the node ends with no sessions and no pending
 * timers and its counters can be checked against the client's. A hangup
 * that races the ring timeout is refused (the call already ended as
 * "no-answer"), which is counted as such.
 */
async function endCallsInProgress(client) {
  await Promise.all(
    [...openSessions].map(async ([id, entry]) => {
      try {
        if (!entry.counted) {
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
        }
        await client.close(id);
        openSessions.delete(id);
        stats.openNow -= 1;
      } catch (err) {
        recordError(err);
      }
    }),
  );
}

// -------------------------------------------------------------------- run

async function main() {
  const daemon = new Daemon();
  // Never leave a daemon behind, whatever happens to this process.
  process.on('exit', () => daemon.kill());
  const watchdog = setTimeout(() => {
    process.stderr.write('demo: watchdog: the run took far longer than planned; killing the daemon\n');
    daemon.kill();
    process.exit(1);
  }, options.durationS * 1_000 + READY_TIMEOUT_MS + WIND_DOWN_TIMEOUT_MS + STOP_TIMEOUT_MS + 30_000);
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
      process.stderr.write(`demo: second ${signal}: killing the daemon now\n`);
      daemon.kill();
      process.exit(130);
    }
    interrupted = true;
    say(`(${signal}: stopping; press Ctrl-C again to kill the daemon at once)`);
    endRun();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  let addresses;
  try {
    addresses = await within(daemon.ready, READY_TIMEOUT_MS, undefined);
  } catch (err) {
    process.stderr.write(`demo: ${err.message}\n${daemon.tail.join('\n')}\n`);
    daemon.kill();
    return 1;
  }
  if (addresses === undefined) {
    process.stderr.write(`demo: the daemon did not log "node ready" within ${READY_TIMEOUT_MS} ms\n${daemon.tail.join('\n')}\n`);
    await daemon.stop();
    return 1;
  }
  say(
    `baton daemon (pid ${daemon.child.pid}) serving sessions on ${addresses.sessionAddress}, control on ${addresses.controlAddress}`,
  );
  say(
    `driving ${options.sessions} call lines for ${options.durationS} s (ring timeout ${RING_TIMEOUT_MS} ms); Ctrl-C stops early`,
  );

  const client = new BatonClient({ nodes: [addresses.sessionAddress], deadlineMs: CALL_DEADLINE_MS });
  const started = performance.now();
  const lines = Array.from({ length: options.sessions }, (_, i) => line(client, i + 1));

  let lastOps = 0;
  let lastAt = started;
  const progress = setInterval(() => {
    const now = performance.now();
    const rate = ((stats.opsApplied - lastOps) * 1_000) / (now - lastAt);
    lastOps = stats.opsApplied;
    lastAt = now;
    const t = Math.round((now - started) / 1_000);
    say(
      `[${String(t).padStart(3)}s] sessions open ${String(stats.openNow).padStart(4)} | ops applied ${String(stats.opsApplied).padStart(6)} (${String(Math.round(rate)).padStart(4)}/s) | ended: hangup ${stats.endedHangup}, no-answer ${stats.endedNoAnswer} | errors ${stats.errors}`,
    );
    if (!daemon.running) endRun();
  }, 1_000);
  const timer = setTimeout(endRun, options.durationS * 1_000);
  daemon.exited.then(() => {
    daemonGone = true;
    endRun();
  });

  await runOver;
  clearTimeout(timer);
  clearInterval(progress);
  const runMs = performance.now() - started;
  stopWorkload();
  const daemonDiedEarly = !daemon.running;
  if (daemonDiedEarly) process.stderr.write(`demo: the daemon exited during the run (${daemon.describeExit()})\n${daemon.tail.join('\n')}\n`);

  // Let every line finish the operation it is in, then read the node's counters.
  const settled = await within(Promise.allSettled(lines).then(() => true), WIND_DOWN_TIMEOUT_MS, false);
  let node;
  if (!daemonDiedEarly) {
    await within(endCallsInProgress(client), 10_000, undefined);
    node = await nodeStatus(addresses.controlAddress);
  }
  client.shutdown();

  say('stopping the daemon (SIGTERM)...');
  const { stopMs, killed } = await daemon.stop();

  const sorted = stats.latenciesMs.sort((a, b) => a - b);
  // Every operation the client saw succeed, plus every ring timeout that
  // fired, is one operation the node applied: none lost, none applied twice.
  // Every refusal the node counted is one the client expected.
  const checks =
    node === undefined || !settled
      ? undefined
      : {
          applied: node.operationsApplied === stats.opsApplied + stats.endedNoAnswer,
          // A refused operation that the SDK retried is refused once per attempt.
          refused: node.operationsRefused >= stats.refused,
          drained: node.sessions === 0 && node.pendingTimers === 0,
        };
  const consistent = checks !== undefined && checks.applied && checks.refused && checks.drained;
  const summary = {
    durationS: Math.round(runMs / 100) / 10,
    interrupted,
    lines: options.sessions,
    callsOpened: stats.callsOpened,
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
    node:
      node === undefined
        ? null
        : {
            sessions: node.sessions,
            pendingTimers: node.pendingTimers,
            operationsApplied: node.operationsApplied,
            operationsRefused: node.operationsRefused,
          },
    consistent,
    daemon: { exit: daemon.describeExit(), diedDuringRun: daemonDiedEarly, stopMs, killed, warnings: daemon.warnings.length },
  };

  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const mark = (ok) => (ok ? 'ok' : 'MISMATCH');
    const out = [
      '',
      `summary (${summary.durationS} s${interrupted ? ', interrupted' : ''})`,
      `  calls opened         ${summary.callsOpened} on ${summary.lines} lines`,
      `  operations applied   ${summary.opsApplied} (${summary.opsPerSecond}/s), apply latency p50 ${summary.applyLatencyMs.p50} ms, p99 ${summary.applyLatencyMs.p99} ms`,
      `  calls ended          ${summary.endedByHangup} by hangup, ${summary.endedByNoAnswer} by no-answer (ring-timeout timer)`,
      `  refused as expected  ${summary.refused} operations on calls the ring timeout had already ended (${summary.lateAnswersRefused} deliberate late answers)`,
      `  resent operations    ${summary.duplicatesAbsorbed} answered from the dedupe window, not applied again`,
      `  SDK retries          ${summary.retries} extra attempts for acknowledged operations`,
      `  errors               ${summary.errors}${summary.errors > 0 ? ` ${JSON.stringify(summary.errorSamples)}` : ''}`,
    ];
    if (summary.node !== null && checks !== undefined) {
      out.push(
        `  node applied         ${summary.node.operationsApplied} = ${stats.opsApplied} client operations + ${stats.endedNoAnswer} timers fired: ${mark(checks.applied)}`,
        `  node refused         ${summary.node.operationsRefused} ${summary.node.operationsRefused === stats.refused ? '=' : '>='} ${stats.refused} expected refusals${summary.node.operationsRefused > stats.refused ? ' (retried refusals count once per attempt)' : ''}: ${mark(checks.refused)}`,
        `  node at the end      ${summary.node.sessions} sessions, ${summary.node.pendingTimers} pending timers: ${mark(checks.drained)}`,
      );
    } else {
      out.push(
        `  node counters        not checked (${daemonDiedEarly ? 'the daemon exited during the run' : 'the node or the workload did not answer in time'})`,
      );
    }
    out.push(
      daemonDiedEarly
        ? `  daemon               exited during the run (${summary.daemon.exit})`
        : `  daemon               stopped ${stopMs} ms after SIGTERM (${summary.daemon.exit}${killed ? ', killed: it did not exit in time' : ''}), ${summary.daemon.warnings} warnings logged`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
  }
  const clean = !daemonDiedEarly && !killed && daemon.exitCode === 0 && stats.errors === 0 && consistent;
  return clean ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    // The client and the watchdog hold no handles now; exit without waiting on stray timers.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (err) => {
    process.stderr.write(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
