// Preloaded (node --expose-gc --import) into the daemon of the memory
// figure only: on SIGUSR2 it runs full garbage collections and writes the
// process's own memory report to $BATON_BENCH_MEMORY_FILE, so the harness
// measures what sessions retain rather than garbage not collected yet. The
// daemon's code is untouched.
import { writeFileSync } from 'node:fs';

const file = process.env.BATON_BENCH_MEMORY_FILE;
const gc = globalThis.gc;
if (file === undefined || typeof gc !== 'function') {
  throw new Error('gc-on-signal.mjs needs node --expose-gc and BATON_BENCH_MEMORY_FILE');
}

let sequence = 0;
process.on('SIGUSR2', () => {
  // Two passes: the first may only finalize what the second can then free.
  gc();
  gc();
  sequence += 1;
  writeFileSync(file, JSON.stringify({ sequence, ...process.memoryUsage() }));
});
