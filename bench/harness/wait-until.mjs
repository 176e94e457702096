import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 100;

/** Polls `check` (async, truthy when done) until it passes; throws naming `what` after `timeoutMs`. */
export async function waitUntil(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(POLL_MS);
  }
}
