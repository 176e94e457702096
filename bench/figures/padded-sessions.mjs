// Counter sessions with a known state size, for the memory and bootstrap
// figures: opened, then grown with the counter's "pad" operation.

/** Length of {"value":0,"fired":[],"pad":""}: the counter's state with no padding. */
export const UNPADDED_STATE_BYTES = Buffer.byteLength(JSON.stringify({ value: 0, fired: [], pad: '' }));

const CONCURRENCY = 128;
const TIMEOUT_MS = 300_000;

/**
 * Opens `count` sessions named `${prefix}<i>` through the load worker and
 * pads each to `stateBytes`; resolves with { opensPerSec, padsPerSec }.
 */
export async function openPaddedSessions(worker, prefix, count, stateBytes) {
  const rates = [];
  for (const [command, args] of [
    ['open', { prefix, count, concurrency: CONCURRENCY }],
    ['applyEach', { prefix, count, concurrency: CONCURRENCY, op: { type: 'pad', bytes: stateBytes - UNPADDED_STATE_BYTES } }],
  ]) {
    const outcome = await worker.request(command, args, TIMEOUT_MS);
    if (outcome.errors > 0) throw new Error(`${command} ${prefix}*: ${outcome.errors} of ${count} failed: ${outcome.firstError}`);
    rates.push(count / (outcome.elapsedMs / 1000));
  }
  return { opensPerSec: rates[0], padsPerSec: rates[1] };
}
