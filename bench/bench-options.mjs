// Command line of `npm run bench` and the settings of each mode.
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run bench [-- --quick] [-- --rounds N] [-- --concurrency LIST] [-- --figures LIST] [-- --json]

  --quick           smoke check: fewer and shorter rounds, 10k sessions for memory (under 2 minutes)
  --rounds N        rounds per measurement (default: 5, quick: 3)
  --concurrency LIST
                    operations in flight per system in the closed loop, e.g. "64" or "64,256,1024"
                    (default: 64,256,1024); with several, a sweep runs each system at each of them
                    and its peak rounds run at the most in flight that read within 10% of its best
  --figures LIST    measure only these figures, e.g. "6" or "1,6" (default: all of 1, 4 and 6;
                    figure 4 loads the snapshot the figure 6 pass leaves, so it runs that pass too);
                    a partial run does not replace bench/results/latest.json
  --json            print the results as JSON on stdout instead of the table: the machine, the settings
                    and every figure's row (median, spread, ratio, goal); the rounds' raw results stay
                    in the results file, whose paths it gives (use "npm run -s bench -- --json" so
                    that npm prints nothing of its own)
  --table FILE      print the table of a saved results file (e.g. bench/results/latest.json) and exit
  --help            this text`;

/**
 * Open-loop bound: more in flight than this and the operation is counted
 * as dropped, not measured. Half the peak is now 40-65k ops/s, so this is
 * a stall of 300 ms or more; 5 000 (until 2026-12-05) cut at 80 ms there,
 * and the rounds with a stall left its worst operations out of their p99.
 */
export const MAX_IN_FLIGHT = 20_000;

/** Shared by both modes. */
const COMMON = {
  /** Operations in flight swept for each system's peak, ascending; the first also warms up and opens sessions. */
  concurrency: [64, 256, 1024],
  /** Counter sessions the apply load spreads over. */
  sessions: 1_000,
  maxInFlight: MAX_IN_FLIGHT,
  /** State size of the memory and bootstrap figures, in bytes. */
  stateBytes: 200,
};

const MODES = {
  full: { ...COMMON, mode: 'full', rounds: 5, warmupMs: 3_000, sweepMs: 2_000, roundWarmupMs: 1_000, measureMs: 6_000, memorySessions: 100_000, hotSessions: 5_000, watchdogMs: 15 * 60_000 },
  quick: { ...COMMON, mode: 'quick', rounds: 3, warmupMs: 1_000, sweepMs: 400, roundWarmupMs: 200, measureMs: 1_000, memorySessions: 10_000, hotSessions: 500, watchdogMs: 3 * 60_000 },
};

/** The figures `npm run bench` can measure; the others are reported as not measured. */
export const MEASURABLE_FIGURES = ['1', '4', '6'];

function figureList(raw) {
  const figures = raw.split(',').map((f) => f.trim());
  const unknown = figures.filter((f) => !MEASURABLE_FIGURES.includes(f));
  if (unknown.length > 0) {
    throw new Error(
      `--figures takes a comma-separated list of ${MEASURABLE_FIGURES.join(', ')} (the others are not measured yet), got "${raw}"\n${USAGE}`,
    );
  }
  return MEASURABLE_FIGURES.filter((f) => figures.includes(f));
}

/** Most operations one load worker keeps in flight: past this, the worker measures itself, not the system. */
const MAX_CONCURRENCY = 16_384;

/** Distinct positive integers, ascending. */
function concurrencyList(raw) {
  const levels = raw.split(',').map((level) => Number(level.trim()));
  if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY)) {
    throw new Error(`--concurrency takes a comma-separated list of integers from 1 to ${MAX_CONCURRENCY}, got "${raw}"\n${USAGE}`);
  }
  return [...new Set(levels)].sort((a, b) => a - b);
}

function positiveInt(name, raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"\n${USAGE}`);
  return n;
}

/**
 * { settings, json } for a run (the settings it measures with, saved with
 * its results; `json`: print JSON, not the table), or { help: true }, or
 * { table: FILE }. Throws with the usage on bad input.
 */
export function parseBenchOptions(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        rounds: { type: 'string' },
        concurrency: { type: 'string' },
        figures: { type: 'string' },
        table: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    throw new Error(`${err.message}\n${USAGE}`);
  }
  if (parsed.help) return { help: true };
  if (parsed.table !== undefined) {
    if (parsed.json) throw new Error(`--json prints a run's results; a saved results file is JSON already: read ${parsed.table} itself\n${USAGE}`);
    return { table: parsed.table };
  }
  const settings = { ...(parsed.quick ? MODES.quick : MODES.full) };
  if (parsed.rounds !== undefined) settings.rounds = positiveInt('rounds', parsed.rounds);
  if (parsed.concurrency !== undefined) settings.concurrency = concurrencyList(parsed.concurrency);
  settings.figures = parsed.figures === undefined ? MEASURABLE_FIGURES : figureList(parsed.figures);
  return { settings, json: parsed.json };
}
