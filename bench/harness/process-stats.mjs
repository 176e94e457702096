// What Linux says about a process: resident memory and CPU time, from /proc.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

let ticksPerSecond;

function clockTicksPerSecond() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** VmRSS of `pid`, in bytes. */
export function readRssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** The fields of /proc/<pid>/stat after the command name, from `state` (field 3) on. */
function statFields(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    throw new Error(`process ${pid} exited during the measurement (${err.code})`, { cause: err });
  }
  // Fields after the command name (which may contain spaces) start at ")".
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU time `pid` has used so far, in ms. */
export function readCpuMs(pid) {
  const fields = statFields(pid);
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks * 1000) / clockTicksPerSecond();
}

/** Minor page faults `pid` has taken so far (pages it touched that the kernel had to map in, without disk I/O). */
export function readMinorFaults(pid) {
  return Number(statFields(pid)[7]); // minflt
}

/** Starts a CPU measurement of `pids`; the returned function gives each one's CPU % since. */
export function cpuMeter(pids, nowMs = () => Date.now()) {
  const start = nowMs();
  const before = pids.map((pid) => readCpuMs(pid));
  return () => {
    const elapsed = Math.max(1, nowMs() - start);
    return pids.map((pid, i) => ((readCpuMs(pid) - before[i]) / elapsed) * 100);
  };
}

/** Starts a measurement of the whole machine (/proc/stat); the returned function gives how busy its CPUs were since, in % of one CPU, and has `cpus`. */
export function machineBusy() {
  const read = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
    return { busy: user + nice + system + irq + softirq + steal, all: user + nice + system + idle + iowait + irq + softirq + steal };
  };
  const start = read();
  const cpus = availableParallelism();
  const measure = () => {
    const end = read();
    return ((end.busy - start.busy) / Math.max(1, end.all - start.all)) * 100 * cpus;
  };
  measure.cpus = cpus;
  return measure;
}
