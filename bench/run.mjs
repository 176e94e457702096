// `npm run bench [-- --quick]`: Baton's figures beside baselines measured in
// the same run, on this machine. Starts its own redis-server, daemons,
// baseline server and load workers on 127.0.0.1, and stops every one of
// them at the end, on an error, on Ctrl-C and on a watchdog timeout.
// Progress goes to stderr; the table (or with --json, the results as JSON)
// to stdout; everything to bench/results/latest.json and a timestamped copy.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseBenchOptions, USAGE } from './bench-options.mjs';
import { applyRows, runApplyBenchmark } from './figures/apply-throughput.mjs';
import { bootstrapRows, runBootstrapBenchmark } from './figures/bootstrap-from-redis.mjs';
import { memoryRows, runMemoryBenchmark } from './figures/memory-per-session.mjs';
import { notMeasuredRows } from './figures/not-measured.mjs';
import { machineInfo } from './harness/machine-info.mjs';
import { CLI_PATH } from './harness/paths.mjs';
import { ProcessRegistry } from './harness/process-registry.mjs';
import { flushRedis, startRedisServer } from './harness/redis-server.mjs';
import { writeResults } from './report/results-file.mjs';
import { resultsTable } from './report/results-table.mjs';

/** Every figure's rows, in figure order, from the raw rounds. */
function rowsOf({ apply, bootstrap, memory }, settings) {
  const rows = [
    ...(apply === undefined ? [] : applyRows(apply, settings)),
    ...notMeasuredRows(),
    ...(bootstrap === undefined ? [] : bootstrapRows(bootstrap)),
    ...(memory === undefined ? [] : memoryRows(memory)),
  ];
  return rows.sort((a, b) => Number(a.figure) - Number(b.figure));
}

const startedAt = performance.now();
const progress = (message) => process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);

let parsed;
try {
  parsed = parseBenchOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (parsed.table !== undefined) {
  // Rows are rebuilt from the raw rounds, so a saved run shows with today's table code.
  const saved = JSON.parse(readFileSync(parsed.table, 'utf8'));
  process.stdout.write(`${resultsTable({ ...saved, rows: rowsOf(saved.raw, saved.settings) }).join('\n')}\n`);
  process.exit(0);
}
const { settings, json } = parsed;
if (!existsSync(CLI_PATH)) {
  process.stderr.write(`${CLI_PATH} is missing: run "npm run bench" (it builds first) or "npm run build"\n`);
  process.exit(2);
}

const registry = new ProcessRegistry((message) => progress(message));
const tempDir = mkdtempSync(join(tmpdir(), 'baton-bench-'));

let cleaning;
function cleanUp() {
  cleaning ??= registry.stopAll().finally(() => rmSync(tempDir, { recursive: true, force: true }));
  return cleaning;
}
let aborting = false;
function abort(why, code) {
  if (aborting) return;
  aborting = true;
  progress(`${why}: stopping ${registry.size} child processes`);
  cleanUp().finally(() => process.exit(code));
}
process.on('SIGINT', () => abort('interrupted', 130));
process.on('SIGTERM', () => abort('terminated', 143));
process.on('uncaughtException', (err) => abort(`unexpected error: ${err.stack ?? err}`, 1));
process.on('unhandledRejection', (err) => abort(`unexpected error: ${err?.stack ?? err}`, 1));
process.on('exit', () => registry.killAllNow());
const watchdog = setTimeout(() => abort(`watchdog: the run exceeded ${settings.watchdogMs / 1000} s`, 1), settings.watchdogMs);

async function main() {
  const machine = machineInfo();
  progress(`${settings.mode} mode: ${settings.rounds} rounds; ${machine.nproc} CPUs, Node ${machine.node}, load average ${machine.loadAverageAtStart[0].toFixed(2)}`);
  const redis = await startRedisServer(registry, tempDir);
  progress(`redis-server on 127.0.0.1:${redis.port}`);
  const wanted = (figure) => settings.figures.includes(figure);
  const apply = wanted('1') ? await runApplyBenchmark({ registry, redis, settings, progress }) : undefined;
  if (wanted('1')) await flushRedis(redis.port);
  // Figure 4 loads the snapshot the memory pass leaves in Redis.
  const memory = wanted('6') || wanted('4') ? await runMemoryBenchmark({ registry, redis, tempDir, settings, progress }) : undefined;
  const bootstrap = wanted('4') ? await runBootstrapBenchmark({ registry, redis, snapshot: memory.snapshot, settings, progress }) : undefined;
  await registry.stop(redis.child);
  const rows = rowsOf({ apply, bootstrap, memory }, settings);
  // What --json prints; the results files also hold the rounds' raw results.
  const summary = {
    machine: { ...machine, loadAverageAtEnd: loadavg() },
    settings,
    durationS: (performance.now() - startedAt) / 1000,
    rows,
  };
  const results = { ...summary, raw: { apply, bootstrap, memory } };
  const paths = writeResults(results);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...summary, files: paths }, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${resultsTable(results).join('\n')}\n\nResults: ${paths.join(', ')}\n`);
  }
}

try {
  await main();
} catch (err) {
  if (!aborting) progress(`failed: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await cleanUp();
}
