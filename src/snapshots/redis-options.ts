/** How to reach Redis: one URL, or Sentinel. */
export interface RedisOptions {
  /**
   * redis://[user:password@]host:port[/db], or rediss:// for TLS. Ignored
   * when sentinels are set.
   */
  readonly url: string | undefined;
  /** Sentinel addresses (HOST:PORT); with masterName, Redis is found through them. */
  readonly sentinels: readonly { host: string; port: number }[];
  /** @default "mymaster" */
  readonly masterName: string;
  /** Password for Redis (keeps it out of URLs and argv); also used for Sentinel when sentinelPassword is unset. */
  readonly password: string | undefined;
  readonly sentinelPassword: string | undefined;
  /** Use TLS (rediss:// in the URL also turns it on). */
  readonly tls: boolean;
  /** PEM file of the CA that signed the Redis server certificate. */
  readonly tlsCaFile: string | undefined;
}

export const DEFAULT_MASTER_NAME = 'mymaster';

export function redisConfigured(options: RedisOptions): boolean {
  return options.url !== undefined || options.sentinels.length > 0;
}

/** Where Redis is, for logs and status (never the password). */
export function describeRedis(options: RedisOptions): string {
  if (options.sentinels.length > 0) {
    return `sentinel ${options.sentinels.map((s) => `${s.host}:${s.port}`).join(',')} master ${options.masterName}`;
  }
  return (options.url ?? '').replace(/\/\/[^@/]*@/, '//***@');
}
