import { pino } from 'pino';
import type { Logger, LevelWithSilent } from 'pino';

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The daemon's one root logger: JSON lines on stdout (journald keeps them
 * under systemd). Subsystems take `logger.child({ component })`.
 */
export function createRootLogger(level: LevelWithSilent, base: Record<string, unknown>): Logger {
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime });
}
