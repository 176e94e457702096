import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HandlerLoadError, UnknownSessionTypeError } from '../errors.js';
import { byteStringsOf } from './byte-string-codec.js';
import type { ByteStringCodec } from './byte-string-codec.js';
import { jsonCodec } from './handler.js';
import type { Codec, SessionHandler } from './handler.js';

/** A handler as the node holds it: validated, with its codec resolved. */
export interface LoadedHandler {
  readonly sessionType: string;
  readonly path: string;
  readonly handler: SessionHandler;
  readonly codec: Codec;
  /** The codec on byte strings: how the engine decodes states and encodes states and replies. */
  readonly byteStrings: ByteStringCodec;
  readonly schemaVersion: number;
}

/** Resolves a directory to its package.json "main" or index.js. */
async function resolveEntry(path: string): Promise<string> {
  const absolute = resolve(path);
  let info;
  try {
    info = await stat(absolute);
  } catch (err) {
    throw new HandlerLoadError(path, 'no such file or directory', { cause: err });
  }
  if (!info.isDirectory()) return absolute;
  try {
    const pkg = JSON.parse(await readFile(join(absolute, 'package.json'), 'utf8')) as { main?: unknown };
    if (typeof pkg.main === 'string') return join(absolute, pkg.main);
  } catch {
    // No package.json: fall back to index.js.
  }
  return join(absolute, 'index.js');
}

function validate(sessionType: string, path: string, candidate: unknown): LoadedHandler {
  const fail = (message: string): never => {
    throw new HandlerLoadError(path, message);
  };
  if (typeof candidate !== 'object' || candidate === null) {
    return fail('the module must default-export a handler object (name, schemaVersion, init, apply, migrate)');
  }
  const h = candidate as Partial<SessionHandler> & Record<string, unknown>;
  if (typeof h.name !== 'string' || h.name.length === 0) fail('"name" must be a non-empty string');
  if (h.name !== sessionType) {
    fail(`the handler is named "${String(h.name)}" but was loaded as type "${sessionType}"; use --handler ${String(h.name)}=${path}`);
  }
  if (typeof h.schemaVersion !== 'number' || !Number.isInteger(h.schemaVersion) || h.schemaVersion < 1) {
    fail('"schemaVersion" must be a positive integer');
  }
  for (const fn of ['init', 'apply', 'migrate'] as const) {
    if (typeof h[fn] !== 'function') fail(`"${fn}" must be a function`);
  }
  if (h.downgrade !== undefined && typeof h.downgrade !== 'function') fail('"downgrade", when present, must be a function');
  const codec = h.codec ?? jsonCodec;
  if (typeof codec.contentType !== 'string' || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    fail('"codec", when present, must have contentType, encode() and decode()');
  }
  return {
    sessionType,
    path,
    handler: h as SessionHandler,
    codec,
    byteStrings: byteStringsOf(codec),
    schemaVersion: h.schemaVersion as number,
  };
}

/** The session types a node serves, by name. */
export class HandlerRegistry {
  private readonly byType = new Map<string, LoadedHandler>();

  /** Imports and validates the module at `path` as session type `sessionType`. */
  async load(sessionType: string, path: string): Promise<LoadedHandler> {
    const entry = await resolveEntry(path);
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(entry).href)) as { default?: unknown };
    } catch (err) {
      throw new HandlerLoadError(path, err instanceof Error ? err.message : String(err), { cause: err });
    }
    const loaded = validate(sessionType, path, mod.default);
    this.byType.set(sessionType, loaded);
    return loaded;
  }

  get(sessionType: string): LoadedHandler {
    const loaded = this.byType.get(sessionType);
    if (loaded === undefined) throw new UnknownSessionTypeError(sessionType, this.types());
    return loaded;
  }

  types(): string[] {
    return [...this.byType.keys()].sort();
  }

  list(): LoadedHandler[] {
    return this.types().map((t) => this.byType.get(t) as LoadedHandler);
  }
}
