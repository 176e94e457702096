#!/usr/bin/env node
import { runCli } from './program.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A stopped daemon has nothing left to do; no stray handle may keep it up.
    if (process.argv[2] === 'daemon') process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`baton: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
