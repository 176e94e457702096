// Child side of IpcChild: runs one command at a time and answers it. The
// child exits when the parent goes away (the IPC channel closes), so no
// orphan keeps loading a server. SIGTERM (how the harness stops a child)
// is an ordinary exit, so what node writes at exit (`--cpu-prof`) is written.

/** Serves `handlers` (command name -> async (args) => result) over process IPC. */
export function serveRequests(handlers) {
  if (process.send === undefined) throw new Error('this module runs as a forked child of bench/run.mjs');
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.on('message', async (message) => {
    const { id, command, args } = message ?? {};
    const handler = handlers[command];
    try {
      if (handler === undefined) throw new Error(`unknown command "${command}"`);
      const result = await handler(args);
      process.send({ id, result });
    } catch (err) {
      process.send({ id, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    }
  });
}
