// Every child process the harness starts, so that all of them are stopped at
// the end: on success, on an error, on Ctrl-C and on a watchdog timeout.
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a child gets to exit after SIGTERM before it is SIGKILLed. */
const TERM_GRACE_MS = 3_000;

export class ProcessRegistry {
  /** @type {Map<number, { name: string, child: import('node:child_process').ChildProcess }>} */
  #children = new Map();

  /** Remembers `child` until it exits; returns it. */
  track(name, child) {
    if (child.pid === undefined) throw new Error(`${name} did not start (no pid)`);
    const pid = child.pid;
    this.#children.set(pid, { name, child });
    child.once('exit', () => this.#children.delete(pid));
    return child;
  }

  get size() {
    return this.#children.size;
  }

  /** SIGTERM to one child, SIGKILL after the grace period; resolves when it is gone. */
  async stop(child) {
    if (child.exitCode !== null || child.signalCode !== null) return;
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
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}
