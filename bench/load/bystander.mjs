// A bystander: a process of its own that only wakes on a 1 ms timer and
// records how late each wake-up came. It does no work for anyone, so its
// lateness is what the machine's scheduler (and the process's own pauses)
// add to any process's response while the measured system runs: a floor
// under every hop of an operation's path. The parent asks for a `lap`:
// the lateness since the previous lap.
import { performance } from 'node:perf_hooks';
import { serveRequests } from '../harness/ipc-responder.mjs';
import { LatencyRecorder } from './latency-recorder.mjs';

const PERIOD_MS = 1;

let lateness = new LatencyRecorder();
let last = performance.now();
const wake = () => {
  const now = performance.now();
  lateness.record(Math.max(0, now - last - PERIOD_MS));
  last = now;
  setTimeout(wake, PERIOD_MS);
};
setTimeout(wake, PERIOD_MS);

serveRequests({
  /** Lateness of the wake-ups since the previous lap, in ms (null if none). */
  async lap() {
    const summary = lateness.summary();
    lateness = new LatencyRecorder();
    return summary;
  },
});
