/**
 * The command line parsed by yargs, built from the command catalog (commands/catalog.ts), each
 * command's module loaded only when that command runs. cli.ts maps what it throws to exit codes.
 */
import yargs, { type Argv, type FallbackCompletionFunction } from 'yargs';
import {
  COMMANDS,
  GLOBAL_OPTIONS,
  VISIBLE_COMMANDS,
  commandName,
  type CommandSpec,
  type OptionSpec,
} from './commands/catalog.js';
import { createContext } from './create-context.js';
import type { Context } from './context.js';
import { EXIT_CODES, ExitCode, UsageError } from './errors.js';
import { memoryLogger } from './log.js';
import { packageVersion } from './package-files.js';
import { createPaths } from './paths.js';
import { profilesInConfigFolder } from './profile/load.js';

type Args = Record<string, unknown>;

function buildContext(args: Args): Context {
  return createContext({
    root: args.root as string | undefined,
    configDir: args['config-dir'] as string | undefined,
    verbose: args.verbose === true,
    json: args.json === true,
  });
}

const text = (value: unknown) => String(value);
const texts = (value: unknown) => (value as unknown[]).map(String);

/** What each command does, loaded when it runs; a number returned is the exit code (exec passes its command's on). */
const HANDLERS: Record<string, (context: Context, args: Args) => Promise<number | unknown>> = {
  setup: async (context, args) =>
    (await import('./commands/setup.js')).setupCommand(context, text(args.name), {
      path: args.path as string | undefined,
      repository: args.repository as string | undefined,
      force: args.force === true,
    }),
  import: async (context, args) =>
    (await import('./commands/import.js')).importCommand(context, texts(args.files), {
      name: text(args.name),
      paths: texts(args.path ?? []),
      set: texts(args.set ?? []),
      drop: texts(args.drop ?? []),
      dryRun: args['dry-run'] === true,
      force: args.force === true,
    }),
  render: async (context, args) =>
    (await import('./commands/render.js')).renderCommand(context, text(args.name), args.out as string | undefined),
  install: async (context, args) => (await import('./commands/install.js')).installCommand(context, texts(args.names)),
  uninstall: async (context, args) =>
    (await import('./commands/uninstall.js')).uninstallCommand(context, texts(args.names), args.purge === true),
  init: async (context, args) =>
    (await import('./commands/init.js')).initCommand(context, text(args.name), args['generate-password'] === true),
  credentials: async (context, args) =>
    (await import('./commands/credentials.js')).credentialsCommand(context, text(args.name), {
      withKey: text(args['with-key']),
    }),
  run: async (context, args) =>
    (await import('./commands/run.js')).runCommand(context, text(args.job) as never, text(args.name)),
  restore: async (context, args) =>
    (await import('./commands/restore.js')).restoreCommand(context, text(args.name), {
      databases: texts(args.database ?? []),
      allDatabases: args['all-databases'] === true,
      schema: args.schema as string | undefined,
      table: args.table as string | undefined,
      as: args.as as string | undefined,
      to: args.to as string | undefined,
      replace: args.replace === true,
      updateRoles: args['update-roles'] === true,
      jobs: args.jobs as string | undefined,
      snapshot: args.snapshot as string | undefined,
      at: args.at as string | undefined,
      host: args.host as string | undefined,
      paths: texts(args.path ?? []),
      target: args.target as string | undefined,
      dryRun: args['dry-run'] === true,
    }),
  exec: async (context, args) =>
    (await import('./commands/exec.js')).execCommand(
      context,
      text(args.name),
      ((args['--'] as unknown[]) ?? []).map(String),
    ),
  status: async (context, args) =>
    (await import('./commands/status.js')).statusCommand(context, texts(args.names ?? [])),
  list: async (context) => (await import('./commands/list.js')).listCommand(context),
  validate: async (context, args) =>
    (await import('./commands/validate.js')).validateCommand(context, texts(args.names)),
  notify: async (context, args) => (await import('./commands/notify.js')).notifyCommand(context, text(args.unit)),
  ended: async (context, args) =>
    (await import('./commands/ended.js')).endedCommand(context, text(args.job) as never, text(args.name)),
  generate: async (context, args) =>
    (await import('./commands/generate.js')).generateCommand(context, text(args['normal-dir'])),
  'internal-pipeline': async (context) =>
    (await import('./commands/internal-pipeline.js')).internalPipelineCommand(context),
};

const exitCodeLines = EXIT_CODES.map((entry) => `  ${String(entry.code).padStart(3)}  ${entry.name}`);
const exitCodeEpilogue = `Exit codes:\n${exitCodeLines.join('\n')}\n(man restic-systemd: EXIT STATUS)`;

/** An option's description, with the word of its value first, as the man page writes it: "DIR  Work on …". */
function describeOption(option: OptionSpec): string {
  return option.value ? `${option.value}  ${option.describe}` : option.describe;
}

function examplesText(spec: CommandSpec): string {
  return [
    'Examples:',
    ...spec.examples.map(([example, meaning]) => `  restic-systemd ${example}\n      ${meaning}`),
  ].join('\n');
}

/** Set by commands whose exit code is not an error's: exec and internal-pipeline pass their command's code on. */
let passThroughExitCode: number = ExitCode.Ok;

function addCommand(parser: Argv, spec: CommandSpec): Argv {
  const name = commandName(spec);
  return parser.command(
    spec.command,
    // false hides a command from --help (yargs' types only allow it in the object form).
    (spec.hidden ? false : spec.summary) as string,
    (command) => {
      for (const positional of spec.positionals) {
        command.positional(positional.name, {
          type: 'string',
          array: positional.array,
          choices: positional.choices as string[] | undefined,
          demandOption: !positional.optional,
          default: positional.optional && positional.array ? [] : undefined,
          describe: positional.describe,
        });
      }
      for (const option of spec.options)
        command.option(option.name, {
          type: option.type,
          default: option.repeatable ? [] : option.default,
          describe: describeOption(option),
          array: option.repeatable,
          demandOption: option.required,
          requiresArg: option.type === 'string',
        });
      // Each example on a line of its own, never wrapped in the middle: copied, it runs.
      if (spec.examples.length > 0) command.epilogue(`${examplesText(spec)}\n\n${exitCodeEpilogue}`);
      if (name === 'exec') command.usage(`$0 exec <name> -- <command…>\n\n${spec.summary}`);
      return command;
    },
    async (args) => {
      refuseRepeated(spec, args as Args);
      const outcome = await HANDLERS[name]!(buildContext(args as Args), args as Args);
      if (typeof outcome === 'number' && (name === 'exec' || name === 'internal-pipeline'))
        passThroughExitCode = outcome;
    },
  );
}

/**
 * An option that takes one value, given twice (`--root A --root B`), is refused: yargs would hand
 * the command an array where it expects a word. Options that take several say so (repeatable).
 */
function refuseRepeated(spec: CommandSpec, args: Args): void {
  const single = [...GLOBAL_OPTIONS, ...spec.options].filter((option) => !option.repeatable);
  const repeated = single.filter((option) => Array.isArray(args[option.name]));
  const positionals = spec.positionals.filter(
    (positional) => !positional.array && Array.isArray(args[positional.name]),
  );
  const names = [
    ...repeated.map((option) => `--${option.name}`),
    ...positionals.map((positional) => `<${positional.name}>`),
  ];
  if (names.length > 0) {
    throw new UsageError(`${names.join(', ')} given more than once: give ${names.length > 1 ? 'each' : 'it'} once`);
  }
}

const COMPLETION = 'Print a bash/zsh completion script: restic-systemd completion >> ~/.bashrc';

/**
 * The completion script (yargs' own) and what it completes: commands and options, profile names
 * (the config folder's *.conf) where a command takes a name, job names after `run`. `completion
 * --help` is help, not the script.
 */
function withCompletion(parser: Argv, argv: readonly string[]): Argv {
  if (argv[0] === 'completion' && (argv.includes('--help') || argv.includes('-h'))) {
    return parser.command('completion', COMPLETION, (command) =>
      command.epilogue(
        'Examples:\n  restic-systemd completion >> ~/.bashrc\n' +
          '      complete commands, options and profile names in bash',
      ),
    );
  }
  const complete: FallbackCompletionFunction = (_current, args: Args, filter, done) => {
    filter((_error, defaults) => {
      const words = (args._ as unknown[]).map(String).filter((word) => word !== 'restic-systemd');
      const command = COMMANDS.find((spec) => commandName(spec) === words[0]);
      const position = words.length - 1;
      const positional = command?.positionals[Math.min(position - 1, command.positionals.length - 1)];
      let extra: string[] = [];
      if (positional?.choices) extra = [...positional.choices];
      else if (positional && /^names?$/.test(positional.name)) extra = profileNamesForCompletion(args);
      done([...new Set([...(defaults ?? []), ...extra])]);
    });
  };
  return parser.completion('completion', COMPLETION, complete);
}

function profileNamesForCompletion(args: Args): string[] {
  try {
    const paths = createPaths({
      root: args.root as string | undefined,
      configDir: args['config-dir'] as string | undefined,
    });
    return profilesInConfigFolder(paths, memoryLogger());
  } catch {
    return [];
  }
}

/** Parse and run a command line (without node and the script); the exit code when it is not an error's. */
export async function runCommandLine(argv: string[]): Promise<number> {
  await cli(argv).parseAsync();
  return passThroughExitCode;
}

function cli(argv: string[]): Argv {
  let parser = yargs(argv)
    .parserConfiguration({ 'populate--': true, 'parse-numbers': false, 'parse-positional-numbers': false })
    .scriptName('restic-systemd')
    .usage(
      '$0 <command> [options]\n\nTurns restic profiles (/etc/restic/<name>.conf) into systemd units and runs ' +
        'their jobs.',
    );
  for (const option of GLOBAL_OPTIONS)
    parser = parser.option(option.name, {
      type: option.type,
      default: option.default,
      describe: describeOption(option),
      requiresArg: option.type === 'string',
    });
  for (const spec of COMMANDS) parser = addCommand(parser, spec);
  parser = withCompletion(parser, argv);
  // The terminal's whole width (yargs' default stops at 80): examples are never broken in the middle.
  parser = parser.wrap(parser.terminalWidth());
  // Option types are not shown: the word of an option's value says more (--root DIR).
  parser = (parser as Argv & { usageConfiguration(config: object): Argv }).usageConfiguration({ 'hide-types': true });
  return parser
    .demandCommand(1, `name a command: ${VISIBLE_COMMANDS.map(commandName).join(', ')} or completion (see --help)`)
    .recommendCommands()
    .strict()
    .epilogue(exitCodeEpilogue)
    .exitProcess(false)
    .fail((message, error) => {
      // yargs' own errors (an option without its value) are usage errors too.
      if (error && error.name !== 'YError') throw error;
      message ||= error?.message ?? 'unreadable command line';
      const valueless = /^Not enough arguments following: (\S+)$/.exec(message);
      if (valueless) message = `--${valueless[1]} needs a value: give it right after the option`;
      // `validate -x`: yargs took the word for an option, and then found no name.
      const at = argv.findIndex((word) => VISIBLE_COMMANDS.some((command) => commandName(command) === word));
      const dashed = at >= 0 ? argv.slice(at + 1).find((word) => /^-./.test(word)) : undefined;
      if (/^(Not enough non-option arguments|Unknown arguments?:)/.test(message) && dashed && argv[at] !== 'exec')
        message =
          `${dashed} is not an option of ${argv[at]}, and a profile name cannot start with "-": give the ` +
          `profile's name (see restic-systemd ${argv[at]} --help)`;
      // `exec myconf restic snapshots`: the command's words were taken for restic-systemd's own.
      const exec = argv.indexOf('exec');
      if (exec >= 0 && /^Unknown arguments?:/.test(message) && !argv.includes('--')) {
        const [name = '<name>', ...words] = argv.slice(exec + 1);
        throw new UsageError(`put the command after --: restic-systemd exec ${name} -- ${words.join(' ')}`);
      }
      throw new UsageError(message);
    })
    .help()
    .version(packageVersion());
}
