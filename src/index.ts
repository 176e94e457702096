/** Baton's public API: the client SDK, the handler API and the error registry. */
export { BatonClient } from './client/baton-client.js';
export type { ApplyResult } from './client/baton-client.js';
export type { ApplyOptions, BatonClientOptions, CallOptions, OpenOptions } from './client/client-options.js';
export type { SessionSnapshot } from './client/session-snapshot.js';
export type { SessionWatch, WatchEventView } from './client/session-watch.js';
export { jsonCodec, JSON_CONTENT_TYPE } from './sessions/handler.js';
export type { ApplyContext, ApplyResult as HandlerApplyResult, Codec, InitContext, SessionHandler, TimerInfo } from './sessions/handler.js';
export * from './errors.js';
export { RemoteError } from './rpc/status-mapper.js';
