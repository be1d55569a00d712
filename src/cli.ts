#!/usr/bin/env node
/**
 * The command line: yargs wiring only. Every command ends here, and the one catch below maps
 * errors to the exit-code table in errors.ts (docs/exit-codes.md).
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { installCommand } from './commands/install.js';
import { renderCommand } from './commands/render.js';
import { uninstallCommand } from './commands/uninstall.js';
import { isSystemdBooted, type Context } from './context.js';
import { EXIT_CODES, ExitCode, ProfileError, ToolError, UsageError } from './errors.js';
import { createRunner } from './exec/runner.js';
import { createLogger, maskSecrets } from './log.js';
import { createPaths } from './paths.js';
import { currentEntrypoint } from './units/entrypoint.js';

interface GlobalOptions {
  root?: string;
  configDir?: string;
  json: boolean;
  verbose: boolean;
}

function buildContext(options: GlobalOptions): Context {
  const log = createLogger(options.verbose ? 'debug' : 'info');
  return {
    paths: createPaths({ root: options.root, configDir: options.configDir }),
    runner: createRunner(log),
    log,
    print: (text) => process.stdout.write(`${text}\n`),
    json: options.json,
    systemdBooted: isSystemdBooted,
    entrypoint: currentEntrypoint,
  };
}

const exitCodeEpilogue = `Exit codes:\n${EXIT_CODES.map((entry) => `  ${entry.code}  ${entry.name}`).join('\n')}\n(docs/exit-codes.md)`;

function cli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName('restic-systemd')
    .usage('$0 <command> [options]\n\nTurns restic profiles (/etc/restic/<name>.conf) into systemd units and runs their jobs.')
    .option('root', { type: 'string', describe: 'Work on the system under DIR: systemctl gets --root=DIR, nothing is reloaded or started (image builds, tests)' })
    .option('config-dir', { type: 'string', describe: 'Folder of the profiles', default: '/etc/restic' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON' })
    .option('verbose', { type: 'boolean', default: false, describe: 'Log every external command (secrets masked)' })
    .command(
      'render <name>',
      'Print the unit files install would write for a profile, touching nothing',
      (command) =>
        command
          .positional('name', { type: 'string', demandOption: true, describe: 'Profile name (/etc/restic/<name>.conf)' })
          .option('out', { type: 'string', describe: 'Write the files into DIR instead of printing them' })
          .example('$0 render myconf', 'show the units and drop-ins of /etc/restic/myconf.conf')
          .example('$0 render myconf --out /tmp/units', 'write them into /tmp/units'),
      (args) => renderCommand(buildContext(args), args.name, args.out),
    )
    .command(
      'install <names..>',
      "Validate the profiles, write their units, reload systemd if anything changed, and enable the timers",
      (command) =>
        command
          .positional('names', { type: 'string', array: true, demandOption: true, describe: 'Profile names' })
          .example('$0 install myconf', 'install and start restic@myconf.timer (and pg-backup@myconf.timer if it has a database)')
          .example('$0 install myconf --root /srv/image --json', 'write into an image; prints {"changed": …}'),
      async (args) => {
        await installCommand(buildContext(args), args.names);
      },
    )
    .command(
      'uninstall <names..>',
      'Disable and stop the profiles\' timers and remove their drop-ins; the templates go with the last profile',
      (command) =>
        command
          .positional('names', { type: 'string', array: true, demandOption: true, describe: 'Profile names' })
          .option('purge', { type: 'boolean', default: false, describe: 'Also remove the template units (refused while other profiles use them)' })
          .example('$0 uninstall myconf', 'stop backing up myconf; its profile stays in /etc/restic'),
      async (args) => {
        await uninstallCommand(buildContext(args), args.names, args.purge);
      },
    )
    .demandCommand(1, 'name a command: render, install or uninstall (see --help)')
    .recommendCommands()
    .strict()
    .epilogue(exitCodeEpilogue)
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    })
    .help()
    .version();
}

async function main(): Promise<number> {
  try {
    await cli(hideBin(process.argv)).parseAsync();
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof ToolError) {
      process.stderr.write(`restic-systemd: ${maskSecrets(error.message)}\n`);
      if (error instanceof UsageError && !(error instanceof ProfileError)) process.stderr.write('Run restic-systemd --help for usage.\n');
      return error.exitCode;
    }
    process.stderr.write(`restic-systemd: internal error (please report it):\n${maskSecrets((error as Error)?.stack ?? String(error))}\n`);
    return ExitCode.Internal;
  }
}

process.exitCode = await main();
