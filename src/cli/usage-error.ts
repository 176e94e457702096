/** Bad command-line input: the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes of every baton command. */
export const EXIT_OK = 0;
/** The command ran but failed (node unreachable, operation refused, ...). */
export const EXIT_FAILURE = 1;
/** Bad flags, arguments or configuration; nothing was changed. */
export const EXIT_USAGE = 2;
