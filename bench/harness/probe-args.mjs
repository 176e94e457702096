// The command line of a probe script (bench/probe-*.mjs): node:util's
// parseArgs with --help, and every mistake answered the same way, with
// what was wrong and the usage on stderr, exit code 2.
import { parseArgs } from 'node:util';

/**
 * The options every probe that starts processes takes: node flags for the
 * daemons and for the load worker, each repeatable (`--node-arg=--cpu-prof`).
 */
export const PROCESS_ARG_OPTIONS = {
  'node-arg': { type: 'string', multiple: true },
  'load-arg': { type: 'string', multiple: true },
};
export const PROCESS_ARG_USAGE = '[--node-arg=FLAG ...] [--load-arg=FLAG ...]';

/** { nodeArgs, loadArgs } from parsed PROCESS_ARG_OPTIONS values. */
export const processArgs = (values) => ({ nodeArgs: values['node-arg'] ?? [], loadArgs: values['load-arg'] ?? [] });

/**
 * Parses `argv` with `options` (parseArgs's, --help added); prints `usage`
 * and exits 0 for --help. Returns { values, positionals, fail, integer }:
 * fail(message) exits 2 with the message and the usage; integer(name,
 * text, fallback, min, max) is `fallback` for no text, else the integer,
 * or fails naming the range.
 */
export function probeArgs(argv, usage, options, { allowPositionals = false } = {}) {
  const fail = (message) => {
    process.stderr.write(`${message}\n${usage}\n`);
    process.exit(2);
  };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals, options: { ...options, help: { type: 'boolean' } } });
  } catch (err) {
    fail(err.message);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const integer = (name, text, fallback, min, max = Number.MAX_SAFE_INTEGER) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      fail(`${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}, got "${text}"`);
    }
    return n;
  };
  return { values: parsed.values, positionals: parsed.positionals, fail, integer };
}
