// Every child process the harness starts, so that all of them are stopped at
// the end: on success, on an error, on Ctrl-C and on a watchdog timeout.
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a child gets to exit after SIGTERM before it is SIGKILLed. */
const TERM_GRACE_MS = 3_000;

export class ProcessRegistry {
  /** @type {Map<number, { name: string, child: import('node:child_process').ChildProcess, lastOutput: () => string }>} */
  #children = new Map();
  #stopping = new Set();

  /**
   * @param {(message: string) => void} onUnexpectedExit told when a child
   *   exits that nobody asked to stop (a crash), with its last output
   */
  constructor(onUnexpectedExit = () => {}) {
    this.onUnexpectedExit = onUnexpectedExit;
  }

  /** Remembers `child` until it exits; returns it. `lastOutput` gives its recent output for a crash report. */
  track(name, child, lastOutput = () => '') {
    if (child.pid === undefined) throw new Error(`${name} did not start (no pid)`);
    const pid = child.pid;
    this.#children.set(pid, { name, child, lastOutput });
    child.once('exit', (code, signal) => {
      this.#children.delete(pid);
      if (this.#stopping.delete(child)) return;
      const output = lastOutput();
      this.onUnexpectedExit(`${name} (pid ${pid}) exited unexpectedly (${signal ?? `code ${code}`})${output ? `; last output:\n${output}` : ''}`);
    });
    return child;
  }

  /** The name a tracked pid was given, for messages. */
  nameOf(pid) {
    return this.#children.get(pid)?.name ?? `process ${pid}`;
  }

  get size() {
    return this.#children.size;
  }

  /** SIGTERM to one child, SIGKILL after the grace period; resolves when it is gone. */
  async stop(child) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    this.#stopping.add(child);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timedOut = await Promise.race([exited.then(() => false), sleep(TERM_GRACE_MS).then(() => true)]);
    if (timedOut) {
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(TERM_GRACE_MS)]);
    }
  }

  /** Stops every child still running, all at once. */
  async stopAll() {
    await Promise.all([...this.#children.values()].map(({ child }) => this.stop(child)));
  }

  /** Last resort from a synchronous 'exit' handler: SIGKILL whatever is left. */
  killAllNow() {
    for (const { child } of this.#children.values()) {
      this.#stopping.add(child);
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}
