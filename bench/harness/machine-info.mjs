// The machine a run's figures came from, recorded beside them.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

function command(file, args) {
  try {
    return execFileSync(file, args, { encoding: 'utf8', timeout: 5_000 }).trim();
  } catch (err) {
    return `unavailable (${err.message.split('\n')[0]})`;
  }
}

export function machineInfo() {
  return {
    date: new Date().toISOString(),
    nproc: command('nproc', []),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    totalMemoryBytes: totalmem(),
    freeH: command('free', ['-h']),
    kernel: release(),
    node: process.version,
    redis: command('redis-server', ['--version']),
    loadAverageAtStart: loadavg(),
  };
}
