import { BatonError } from '../errors.js';
import { RemoteError } from '../rpc/status-mapper.js';
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './usage-error.js';

/** Prints one value: JSON (one line) or the human form. */
export function emit(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
}

/** Reports a failed command and returns the exit code to use. */
export function reportFailure(err: unknown, json: boolean): number {
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const code = err instanceof BatonError ? err.code : 'ERR_INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  const handlerCode = err instanceof RemoteError ? err.handlerCode : undefined;
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: { code, message, ...(handlerCode ? { handlerCode } : {}) } })}\n`);
  } else {
    process.stderr.write(`error: ${message} (${code}${handlerCode ? `, ${handlerCode}` : ''})\n`);
  }
  return EXIT_FAILURE;
}

/** Parses a JSON command-line argument, or explains what was wrong. */
export function parseJsonArg(name: string, text: string, example: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(
      `${name} is not valid JSON (${err instanceof Error ? err.message : String(err)}); pass a JSON value, e.g. '${example}'`,
    );
  }
}

/** Parses a positive integer option, or explains what was wrong. */
export function parsePositiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got "${text}"`);
  return n;
}
