import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError, HandlerLoadError, RedisRefusedError } from '../errors.js';
import { BatonNode } from '../node/baton-node.js';
import { compileNodeOptions, NODE_FIELDS } from '../node/node-options.js';
import type { NodeOptions, RawNodeConfig } from '../node/node-options.js';
import { createRootLogger } from '../observability/logger.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './usage-error.js';

type Source = 'flag' | 'env' | 'config file';

interface Gathered {
  raw: RawNodeConfig;
  sources: Map<string, Source>;
}

function resolveHandlerPaths(value: unknown, base: string): unknown {
  const fix = (entry: string): string => {
    const at = entry.indexOf('=');
    if (at < 0) return entry;
    const path = entry.slice(at + 1).trim();
    return `${entry.slice(0, at)}=${isAbsolute(path) ? path : resolve(base, path)}`;
  };
  if (typeof value === 'string') return value.split(',').map(fix);
  if (Array.isArray(value)) return value.map((e) => (typeof e === 'string' ? fix(e) : e));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, typeof v === 'string' && !isAbsolute(v) ? resolve(base, v) : v]),
    );
  }
  return value;
}

/** Merges config sources: flags over BATON_* environment over the config file. */
function gather(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Gathered {
  const raw: Record<string, unknown> = {};
  const sources = new Map<string, Source>();
  const configPath = (flags.config as string | undefined) ?? env.BATON_CONFIG;
  if (configPath !== undefined) {
    let file: unknown;
    try {
      file = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read config file ${configPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new UsageError(`config file ${configPath} must hold a JSON object of settings, e.g. {"nodeId": "a"}`);
    }
    for (const [key, value] of Object.entries(file)) {
      raw[key] = key === 'handlers' ? resolveHandlerPaths(value, dirname(resolve(configPath))) : value;
      sources.set(key, 'config file');
    }
  }
  for (const field of NODE_FIELDS) {
    const value = env[field.env];
    if (value !== undefined && value !== '') {
      raw[field.key] = field.key === 'handlers' ? resolveHandlerPaths(value, process.cwd()) : value;
      sources.set(field.key, 'env');
    }
    const flag = flags[field.key === 'handlers' ? 'handler' : field.key];
    if (flag !== undefined) {
      raw[field.key] = field.key === 'handlers' ? resolveHandlerPaths(flag, process.cwd()) : flag;
      sources.set(field.key, 'flag');
    }
  }
  return { raw: raw as RawNodeConfig, sources };
}

function describeSource(err: ConfigError, sources: Map<string, Source>): string {
  const field = NODE_FIELDS.find((f) => f.flag.startsWith(`${err.field} `) || f.key === err.field);
  const source = field === undefined ? undefined : sources.get(field.key);
  if (field === undefined || source === undefined) return err.message;
  const where = source === 'env' ? `from ${field.env}` : source === 'config file' ? `from config key "${field.key}"` : 'from the command line';
  return `${err.message} (${where})`;
}

/** Runs a node until SIGTERM/SIGINT; resolves with the exit code. */
async function runDaemon(options: NodeOptions): Promise<number> {
  const logger = createRootLogger(options.logLevel, { nodeId: options.nodeId, pid: process.pid });
  let node: BatonNode;
  try {
    node = await BatonNode.start(options, logger);
  } catch (err) {
    if (err instanceof HandlerLoadError) {
      process.stderr.write(`error: invalid --handler: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof RedisRefusedError) {
      process.stderr.write(`error: invalid --redis/--cluster: ${err.message}\n`);
      return EXIT_USAGE;
    }
    logger.fatal({ err }, 'node failed to start');
    process.stderr.write(`error: node failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILURE;
  }
  return new Promise<number>((resolveExit) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (node.state === 'stopping') {
        logger.warn({ signal }, 'second signal during shutdown: exiting now');
        process.exit(EXIT_FAILURE);
      }
      logger.info({ signal, graceMs: options.graceMs }, 'stopping gracefully');
      node.stop(signal).then(
        () => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolveExit(EXIT_OK);
        },
        (err: unknown) => {
          logger.error({ err }, 'graceful stop failed');
          resolveExit(EXIT_FAILURE);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export function daemonCommand(setExitCode: (code: number) => void): Command {
  const command = new Command('daemon')
    .summary('run a Baton node')
    .description(
      'Run a Baton node: serves sessions of the configured types until SIGTERM or SIGINT, then stops gracefully.\n' +
        'Every setting comes from a flag, a BATON_* environment variable or the --config JSON file (in that order of precedence).',
    )
    .addOption(new Option('--config <file>', 'JSON config file with any of the settings below, keyed by camelCase name [env: BATON_CONFIG]'));
  for (const field of NODE_FIELDS) {
    command.addOption(new Option(field.flag, `${field.description} [env: ${field.env}]`));
  }
  command.addHelpText(
    'after',
    '\nExample:\n  baton daemon --node-id a --listen 127.0.0.1:7100 --control 127.0.0.1:7101 \\\n    --handler counter=./examples/handlers/counter --handler call=./examples/handlers/call',
  );
  return command.action(async (flags: Record<string, unknown>) => {
    const { raw, sources } = gather(flags, process.env);
    let options: NodeOptions;
    try {
      options = compileNodeOptions(raw);
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(describeSource(err, sources));
      throw err;
    }
    setExitCode(await runDaemon(options));
  });
}
