import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = `${ROOT}dist/cli/main.js`;
export const COUNTER_HANDLER = `${ROOT}examples/handlers/counter`;
export const CALL_HANDLER = `${ROOT}examples/handlers/call`;
