// Where the harness finds the built project and its own files.
import { fileURLToPath } from 'node:url';

const at = (relative) => fileURLToPath(new URL(relative, import.meta.url));

export const PROJECT_DIR = at('../../');
export const CLI_PATH = at('../../dist/cli/main.js');
export const SDK_PATH = at('../../dist/index.js');
export const PROTO_DIR = at('../../proto/');
export const COUNTER_HANDLER_PATH = at('../../examples/handlers/counter');
export const RESULTS_DIR = at('../results/');
export const LOAD_WORKER_PATH = at('../load/load-worker.mjs');
export const BYSTANDER_PATH = at('../load/bystander.mjs');
export const BASELINE_SERVER_PATH = at('../baseline/redis-session-server.mjs');
export const GC_ON_SIGNAL_PATH = at('../memory/gc-on-signal.mjs');
