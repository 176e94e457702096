import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * Result codes of the Lua scripts in ./lua, one enum for all of them
 * (each script's header lists the ones it returns).
 */
export enum ScriptCode {
  Ok = 0,
  StaleEpoch = 1,
  /** The writer's registration marker is gone: Redis lost its data. */
  NotRegistered = 2,
  ClusterMismatch = 3,
  FormatMismatch = 4,
  PairFull = 5,
}

export type ScriptReply = [ScriptCode, string | number];

/**
 * Script names carry their version so two releases can share one Redis
 * during a rolling upgrade without replacing each other's scripts.
 */
export const SCRIPTS = {
  registerNode: { name: 'batonRegisterNodeV1', file: 'register-node.lua', keys: 2 },
  writeRecords: { name: 'batonWriteRecordsV1', file: 'write-records.lua', keys: undefined },
  setWatermark: { name: 'batonSetWatermarkV1', file: 'set-watermark.lua', keys: 3 },
} as const;

const LUA_DIR = new URL('./lua/', import.meta.url);

/** Registers every script on a connection with ioredis defineCommand. */
export function defineScripts(redis: Redis): void {
  for (const script of Object.values(SCRIPTS)) {
    redis.defineCommand(script.name, {
      lua: readFileSync(new URL(script.file, LUA_DIR), 'utf8'),
      ...(script.keys === undefined ? {} : { numberOfKeys: script.keys }),
    });
  }
}

/** Calls a defined script by name (ioredis adds them as dynamic methods). */
export async function callScript(redis: Redis, name: string, args: (string | number | Buffer)[]): Promise<ScriptReply> {
  const fn = (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
  if (fn === undefined) throw new Error(`script ${name} is not defined on this connection`);
  return (await fn.apply(redis, args)) as ScriptReply;
}
