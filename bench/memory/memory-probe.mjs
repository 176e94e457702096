// Harness side of gc-on-signal.mjs: asks the daemon for a collected-heap
// memory report and reads its VmRSS right after.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRssBytes } from '../harness/process-stats.mjs';

const REPORT_TIMEOUT_MS = 10_000;
const POLL_MS = 20;
/** Lets the allocator return freed pages after the collection before RSS is read. */
const SETTLE_MS = 500;

export class MemoryProbe {
  #sequence = 0;

  constructor(pid, file) {
    this.pid = pid;
    this.file = file;
  }

  /** { rss (VmRSS after GC), heapUsed, external, arrayBuffers } in bytes. */
  async measure() {
    this.#sequence += 1;
    process.kill(this.pid, 'SIGUSR2');
    const deadline = Date.now() + REPORT_TIMEOUT_MS;
    for (;;) {
      let report;
      try {
        report = JSON.parse(readFileSync(this.file, 'utf8'));
      } catch {
        report = undefined; // Not written yet, or being written.
      }
      if (report?.sequence === this.#sequence) {
        await sleep(SETTLE_MS);
        return { rss: readRssBytes(this.pid), heapUsed: report.heapUsed, external: report.external, arrayBuffers: report.arrayBuffers };
      }
      if (Date.now() > deadline) throw new Error(`daemon ${this.pid} sent no memory report within ${REPORT_TIMEOUT_MS} ms`);
      await sleep(POLL_MS);
    }
  }
}
