// `node bench/probe-generator-floor.mjs [rate ...] [--rounds N] [--duration-ms N]`
//
// The floor under figure 1's half-peak p99: the open-loop generator the
// benchmark uses (bench/load/open-loop.mjs), in a process of its own as the
// load worker is, against no server at all. Each operation is answered on
// the next turn of the event loop, so what is left is the generator's own
// scheduling (1 ms timer steps) and the process's own pauses: no latency
// the benchmark reports at that rate can be below it. Prints, per rate and
// round, the latency from the scheduled send time (p50, p99, max) and how
// late the generator sent (p99). Not part of `npm run bench`.
import { probeArgs } from './harness/probe-args.mjs';
import { openLoop } from './load/open-loop.mjs';

const USAGE = 'usage: node bench/probe-generator-floor.mjs [rate ops/s ...] (default: 10000 43000) [--rounds N (3)] [--duration-ms N (4000)]';
/** Far above what a round can have in flight: nothing is dropped. */
const MAX_IN_FLIGHT = 1_000_000;

const { positionals, values, integer } = probeArgs(
  process.argv.slice(2),
  USAGE,
  { rounds: { type: 'string' }, 'duration-ms': { type: 'string' } },
  { allowPositionals: true },
);
const rates = positionals.length === 0 ? [10_000, 43_000] : positionals.map((text) => integer('a rate', text, undefined, 1));
const rounds = integer('--rounds', values.rounds, 3, 1);
const durationMs = integer('--duration-ms', values['duration-ms'], 4_000, 1);

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const f = (ms) => ms.toFixed(2);
process.stdout.write(`open-loop generator against an answer on the next turn, ${durationMs} ms rounds\n`);
for (const rate of rates) {
  for (let round = 1; round <= rounds; round++) {
    const r = await openLoop(nextTurn, { rate, durationMs, maxInFlight: MAX_IN_FLIGHT });
    process.stdout.write(
      `${rate} ops/s, round ${round}: p50 ${f(r.latency.p50)} ms, p99 ${f(r.latency.p99)} ms, max ${f(r.latency.max)} ms; ` +
        `generator late p99 ${f(r.sendLag.p99)} ms; CPU ${Math.round(r.loadCpuPercent)}%\n`,
    );
  }
}
