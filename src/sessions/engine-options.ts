/** Limits and windows of the session engine. */
export interface EngineOptions {
  /** Node id written as owner of the sessions this node opens. */
  nodeId: string;
  /**
   * Most sessions the node holds.
   * @default 200_000
   */
  maxSessions: number;
  /**
   * Largest encoded state, in bytes.
   * @default 262_144 (256 KiB)
   */
  maxStateBytes: number;
  /**
   * Largest encoded operation (or open params), in bytes.
   * @default 65_536 (64 KiB)
   */
  maxOperationBytes: number;
  /**
   * How many recent operation ids (with their replies) each session keeps so
   * that a retry returns the original reply. A retry older than this many
   * operations on the same session is applied again.
   * @default 32
   */
  dedupeWindow: number;
  /**
   * Most pending timers per session.
   * @default 64
   */
  maxTimersPerSession: number;
}

export const DEFAULT_MAX_SESSIONS = 200_000;
export const DEFAULT_MAX_STATE_BYTES = 256 * 1024;
export const DEFAULT_MAX_OPERATION_BYTES = 64 * 1024;
export const DEFAULT_DEDUPE_WINDOW = 32;
export const DEFAULT_MAX_TIMERS_PER_SESSION = 64;
/** Longest accepted session id and operation id, in characters. */
export const MAX_ID_LENGTH = 128;
