// `<command with --trace-gc-nvp> | node bench/gc-trace-summary.mjs [FILE]`
//
// Sums what V8's `--trace-gc-nvp` printed, per process: how many
// scavenges, what they found allocated since the one before, what they
// promoted to the old generation, how long they paused, and how many
// mark-compacts ran. Reads FILE, or standard input. For instance, the
// load worker's collector under a probe:
//
//   node bench/probe-cost.mjs --modes off --rounds 1 --duration-ms 4000 \
//     --load-arg=--trace-gc-nvp | node bench/gc-trace-summary.mjs
//
// (the warm-up is included). Lines that are not the collector's pass
// through to standard error, so the probe's own report stays in view.
// Not part of `npm run bench`.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const USAGE = 'usage: <command with --trace-gc-nvp> | node bench/gc-trace-summary.mjs [FILE]';
/** `[pid:0xisolate]    1234 ms: pause=... gc=s ...` */
const LINE = /^\[(\d+):0x[0-9a-f]+\]\s+[\d.]+ ms: (.*\bgc=(\w+)\b.*)$/;

const [file, ...rest] = process.argv.slice(2);
if (file === '--help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (rest.length > 0) {
  process.stderr.write(`gc-trace-summary: one FILE at most, got ${process.argv.length - 2} arguments\n${USAGE}\n`);
  process.exit(2);
}

/** name=value pairs of one trace line, as numbers. */
function fields(text) {
  const out = {};
  for (const pair of text.split(/\s+/)) {
    const at = pair.indexOf('=');
    if (at > 0) out[pair.slice(0, at)] = Number(pair.slice(at + 1));
  }
  return out;
}

const byPid = new Map();
const input = file === undefined ? process.stdin : createReadStream(file);
input.on('error', (err) => {
  process.stderr.write(`gc-trace-summary: cannot read ${file}: ${err.message}\n${USAGE}\n`);
  process.exit(2);
});
for await (const line of createInterface({ input, crlfDelay: Infinity })) {
  const match = LINE.exec(line);
  if (match === null) {
    process.stderr.write(`${line}\n`);
    continue;
  }
  const [, pid, text, kind] = match;
  const sum = byPid.get(pid) ?? { scavenges: 0, allocated: 0, promoted: 0, pauseMs: 0, markCompacts: 0 };
  byPid.set(pid, sum);
  const f = fields(text);
  if (kind === 's') {
    sum.scavenges += 1;
    sum.allocated += f.allocated ?? 0;
    sum.promoted += f.promoted ?? 0;
    sum.pauseMs += f.pause ?? 0;
  } else if (kind === 'mc' || kind === 'ms') {
    sum.markCompacts += 1;
  }
}
if (byPid.size === 0) {
  process.stderr.write(`gc-trace-summary: no --trace-gc-nvp lines in the input\n${USAGE}\n`);
  process.exit(2);
}
const mb = (bytes) => (bytes / 1e6).toFixed(0);
for (const [pid, s] of byPid) {
  process.stdout.write(
    `pid ${pid}: ${s.scavenges} scavenges, allocated ${mb(s.allocated)} MB, promoted ${mb(s.promoted)} MB, scavenge pauses ${Math.round(s.pauseMs)} ms; ${s.markCompacts} mark-compacts\n`,
  );
}
