import { readFileSync } from 'node:fs';

/** The Baton release this code is, from package.json. */
export const RELEASE: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Peer/client protocol versions this release speaks, inclusive. */
export const PROTOCOL_MIN = 1;
export const PROTOCOL_MAX = 1;
