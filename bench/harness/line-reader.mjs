// Reads a child's output line by line, keeps the last lines for error
// messages, and keeps draining so that a chatty child never blocks on a full
// pipe.
import { createInterface } from 'node:readline';

const KEPT_LINES = 40;

export class LineReader {
  #recent = [];
  #waiters = new Set();

  constructor(stream) {
    createInterface({ input: stream }).on('line', (line) => {
      this.#recent.push(line);
      if (this.#recent.length > KEPT_LINES) this.#recent.shift();
      for (const waiter of this.#waiters) waiter(line);
    });
  }

  /** The last lines, for an error message. */
  tail() {
    return this.#recent.join('\n');
  }

  /**
   * Resolves with the first value `match(line)` returns other than
   * undefined. Rejects after `timeoutMs`, or when `failed` (a promise) settles first.
   */
  waitFor(match, timeoutMs, failed, what) {
    return new Promise((resolve, reject) => {
      const done = (fn, value) => {
        clearTimeout(timer);
        this.#waiters.delete(onLine);
        fn(value);
      };
      const onLine = (line) => {
        const value = match(line);
        if (value !== undefined) done(resolve, value);
      };
      const timer = setTimeout(
        () => done(reject, new Error(`${what}: not seen within ${timeoutMs} ms; last output:\n${this.tail()}`)),
        timeoutMs,
      );
      this.#waiters.add(onLine);
      failed.then(
        (why) => done(reject, new Error(`${what}: the process exited first (${why}); last output:\n${this.tail()}`)),
        (err) => done(reject, err),
      );
    });
  }
}
