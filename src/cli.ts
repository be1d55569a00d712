#!/usr/bin/env node
/**
 * The command line: yargs wiring only. Every command ends here, and the one catch below maps
 * errors to the exit-code table in errors.ts (docs/exit-codes.md).
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { execCommand } from './commands/exec.js';
import { generateCommand } from './commands/generate.js';
import { initCommand } from './commands/init.js';
import { internalPipelineCommand } from './commands/internal-pipeline.js';
import { installCommand } from './commands/install.js';
import { listCommand } from './commands/list.js';
import { notifyCommand } from './commands/notify.js';
import { setupCommand } from './commands/setup.js';
import { statusCommand } from './commands/status.js';
import { validateCommand } from './commands/validate.js';
import { RUNNABLE_JOBS, runCommand, type RunnableJob } from './commands/run.js';
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

/** Set by commands whose exit code is not an error's: exec passes its command's code on. */
let passThroughExitCode: number = ExitCode.Ok;

function cli(argv: string[]): Argv {
  return yargs(argv)
    .parserConfiguration({ 'populate--': true })
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
    .command(
      'init <name>',
      "Create the profile's repository if it does not exist yet; succeed quietly if it does",
      (command) =>
        command
          .positional('name', { type: 'string', demandOption: true, describe: 'Profile name' })
          .option('generate-password', { type: 'boolean', default: false, describe: 'Write a random password (mode 0600) into RESTIC_PASSWORD_FILE if that file does not exist' })
          .example('$0 init myconf --generate-password', 'create /etc/restic/myconf.password and the repository'),
      (args) => initCommand(buildContext(args), args.name, args.generatePassword),
    )
    .command(
      'run <job> <name>',
      'Run a job of a profile now: what the units start (backup: restic backup + retention; maintenance: prune + check)',
      (command) =>
        command
          .positional('job', { type: 'string', choices: Object.keys(RUNNABLE_JOBS), demandOption: true, describe: 'The job' })
          .positional('name', { type: 'string', demandOption: true, describe: 'Profile name' })
          .example('$0 run backup myconf', 'back up now, apply the retention, write the status file')
          .example('$0 run maintenance myconf', 'restic prune and restic check --read-data-subset now'),
      (args) => runCommand(buildContext(args), args.job as RunnableJob, args.name),
    )
    .command(
      'exec <name>',
      "Run a command with the profile's environment (replaces the guide's while-read-export loop)",
      (command) =>
        command
          .positional('name', { type: 'string', demandOption: true, describe: 'Profile name' })
          .usage('$0 exec <name> -- <command…>')
          .example('$0 exec myconf -- restic snapshots', 'list the snapshots of the repository of myconf')
          .example('$0 exec myconf -- restic restore latest --target /tmp/restore', 'restore the latest snapshot'),
      async (args) => {
        passThroughExitCode = await execCommand(buildContext(args), args.name, ((args['--'] as unknown[]) ?? []).map(String));
      },
    )
    .command(
      'status [names..]',
      'Last run, snapshot and next run of every job; exits 8 if any last run failed or is overdue',
      (command) =>
        command
          .positional('names', { type: 'string', array: true, default: [] as string[], describe: 'Profile names (default: every installed profile)' })
          .example('$0 status', 'a table of every installed profile and job')
          .example('$0 status myconf --json', 'the same as JSON, for a monitor'),
      (args) => statusCommand(buildContext(args), args.names),
    )
    .command(
      'list',
      'The profiles found, and whether each is installed, enabled and healthy',
      (command) => command.example('$0 list --json', 'the profiles as JSON'),
      async (args) => {
        await listCommand(buildContext(args));
      },
    )
    .command(
      'validate <names..>',
      'Check profiles completely: model, permissions, restic, the repository with its password, the units',
      (command) =>
        command
          .positional('names', { type: 'string', array: true, demandOption: true, describe: 'Profile names' })
          .example('$0 validate myconf', 'every problem of /etc/restic/myconf.conf with the fix to apply'),
      async (args) => {
        await validateCommand(buildContext(args), args.names);
      },
    )
    .command(
      'setup <name>',
      'One command from nothing to a first backup: profile, password, repository, units, first run',
      (command) =>
        command
          .positional('name', { type: 'string', demandOption: true, describe: 'Profile name' })
          .option('path', { type: 'string', describe: 'What to back up (default /media/<name>)' })
          .option('repository', { type: 'string', describe: 'Where to (default /var/lib/restic/<name>; any restic repository URL)' })
          .option('force', { type: 'boolean', default: false, describe: 'Replace an existing profile (kept as <name>.conf.old)' })
          .example('$0 setup myconf --path /srv/data', 'back up /srv/data hourly into /var/lib/restic/myconf')
          .example('$0 setup demo --root /tmp/t --path /tmp/t/data', 'the same inside a root folder, offline'),
      (args) => setupCommand(buildContext(args), args.name, { path: args.path, repository: args.repository, force: args.force }),
    )
    .command(
      'notify <unit>',
      "Run the profile's NOTIFY_COMMAND for a failed unit (what restic-notify@<unit>.service does)",
      (command) =>
        command
          .positional('unit', { type: 'string', demandOption: true, describe: 'The failed unit, e.g. restic@myconf.service' })
          .example('$0 notify restic@myconf.service', 'try the notification of myconf by hand'),
      (args) => notifyCommand(buildContext(args), args.unit),
    )
    .command({
      command: 'generate <normal-dir> [early-dir] [late-dir]',
      // Not for operators: what restic-systemd's systemd generator runs at every daemon-reload (commands/generate.ts).
      describe: false,
      handler: (args) => generateCommand(buildContext(args as unknown as GlobalOptions), String(args['normal-dir'])),
    })
    .command({
      command: 'internal-pipeline',
      // Not for operators: what restic runs for the database job (commands/internal-pipeline.ts).
      describe: false,
      handler: async (args) => {
        passThroughExitCode = await internalPipelineCommand(buildContext(args as unknown as GlobalOptions));
      },
    })
    .completion('completion', 'Print a bash/zsh completion script (restic-systemd completion >> ~/.bashrc)')
    .demandCommand(1, 'name a command: setup, render, install, uninstall, init, run, exec, status, list or validate (see --help)')
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
    return passThroughExitCode;
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
