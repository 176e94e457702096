import { Command, CommanderError } from 'commander';
import { RELEASE } from '../release.js';
import { daemonCommand } from './daemon-command.js';
import { reportFailure } from './output.js';
import { sessionCommand } from './session-command.js';
import { statusCommand } from './status-command.js';
import { EXIT_OK, EXIT_USAGE } from './usage-error.js';

/** Runs the baton CLI on `argv`; resolves with the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('baton')
    .description('Baton keeps long-lived stateful sessions alive on a two-node pair through crashes and upgrades.')
    .version(RELEASE, '-V, --version')
    .addCommand(daemonCommand(setExitCode))
    .addCommand(sessionCommand())
    .addCommand(statusCommand(setExitCode));
  // Commander exits the process on usage errors unless told otherwise, per command.
  const configure = (command: Command): void => {
    command.exitOverride().showHelpAfterError('(run with --help for usage)');
    command.commands.forEach(configure);
  };
  configure(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const json = argv.includes('--json');
    return reportFailure(err, json);
  }
}
