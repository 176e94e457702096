import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CALL_HANDLER, CLI, COUNTER_HANDLER } from './paths.js';

export interface DaemonOptions {
  nodeId?: string;
  /** Extra daemon flags. */
  args?: readonly string[];
  env?: Record<string, string>;
  /** Default: counter and call. */
  handlers?: readonly string[];
  /** How long to wait for "node ready". */
  readyTimeoutMs?: number;
  /** Control address; a free port when omitted. */
  control?: string;
  /** Session API address; a free port when omitted. */
  listen?: string;
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const running = new Set<DaemonProcess>();

/** A real `baton daemon` child process, ready to serve. */
export class DaemonProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  sessionAddress = '';
  controlAddress = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    running.add(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(this);
        resolve({ code, signal });
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 0, msg: line });
      }
    });
  }

  static async start(options: DaemonOptions = {}): Promise<DaemonProcess> {
    const handlers = options.handlers ?? [`counter=${COUNTER_HANDLER}`, `call=${CALL_HANDLER}`];
    const args = [
      CLI,
      'daemon',
      '--node-id',
      options.nodeId ?? 'test-a',
      '--listen',
      options.listen ?? '127.0.0.1:0',
      '--control',
      options.control ?? '127.0.0.1:0',
      ...handlers.flatMap((h) => ['--handler', h]),
      ...(options.args ?? []),
    ];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const daemon = new DaemonProcess(child);
    await daemon.waitForLog((l) => l.msg === 'node ready', options.readyTimeoutMs ?? 15_000);
    const ready = daemon.logs.find((l) => l.msg === 'node ready') as LogLine;
    daemon.sessionAddress = String(ready.sessionAddress);
    daemon.controlAddress = String(ready.controlAddress);
    return daemon;
  }

  /** Resolves with the first log line matching `predicate`; rejects on exit or timeout. */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    for (;;) {
      const found = this.logs.find(predicate);
      if (found !== undefined) return found;
      if (exited) throw new Error(`daemon exited before the awaited log line; stderr: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for a log line; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Waits for the process to exit (kills it with SIGKILL after `timeoutMs`). */
  async waitExit(timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.signal('SIGTERM');
    await this.waitExit();
  }
}

/** Kills every daemon a test file left running (call from afterAll/afterEach). */
export async function killAllDaemons(): Promise<void> {
  await Promise.all(
    [...running].map(async (d) => {
      d.signal('SIGKILL');
      await d.waitExit();
    }),
  );
}
