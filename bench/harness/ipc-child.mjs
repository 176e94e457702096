// A forked Node child that answers requests over the IPC channel: the
// parent sends { id, command, args }, the child answers { id, result } or
// { id, error }. Every request has a deadline, so a stuck child cannot hang
// the run.
import { fork } from 'node:child_process';
import { childExit } from './child-exit.mjs';

export class IpcChild {
  #pending = new Map();
  #nextId = 1;
  #exited;

  constructor(name, child) {
    this.name = name;
    this.child = child;
    this.pid = child.pid;
    // Failures to send are reported to request(); keep them from crashing the run.
    child.on('error', () => {});
    child.on('message', (message) => {
      const entry = this.#pending.get(message?.id);
      if (entry === undefined) return;
      this.#pending.delete(message.id);
      clearTimeout(entry.timer);
      if (message.error !== undefined) entry.reject(new Error(`${name}: ${message.error}`));
      else entry.resolve(message.result);
    });
    this.#exited = childExit(child).then((why) => {
      for (const entry of this.#pending.values()) {
        clearTimeout(entry.timer);
        entry.reject(new Error(`${name} exited (${why}) before answering`));
      }
      this.#pending.clear();
      return why;
    });
  }

  /** Forks `path` with `args`; the child shares this terminal's stderr (errors only). */
  static fork(registry, name, path, args = [], execArgv = []) {
    const child = fork(path, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    return new IpcChild(name, registry.track(name, child));
  }

  /** Resolves with the first message of `type` the child sends unprompted. */
  waitForMessage(type, timeoutMs) {
    return new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message?.type !== type) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(message);
      };
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`${this.name}: no "${type}" message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.child.on('message', onMessage);
      this.#exited.then((why) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${why}) before sending "${type}"`));
      });
    });
  }

  request(command, args, timeoutMs) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error(`${this.name}: cannot send "${command}", the child is gone`));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: "${command}" did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.child.send({ id, command, args }, (err) => {
        if (err === null || err === undefined || !this.#pending.has(id)) return;
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(new Error(`${this.name}: sending "${command}" failed: ${err.message}`));
      });
    });
  }
}
