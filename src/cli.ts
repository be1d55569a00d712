#!/usr/bin/env node
/**
 * The entry point. The command line the units run, `[--root DIR] [--config-dir DIR] run <job>
 * <name>`, goes straight to its job: yargs and the other commands are never loaded on a timer's path (start-up
 * is part of every run's cost, docs/benchmarks.md). Everything else is parsed by yargs
 * (command-line.ts). The one catch below maps errors to the exit-code table in errors.ts.
 */
import { isJobName, type JobName } from './profile/jobs.js';
import { ExitCode, ProfileError, ToolError, UsageError } from './errors.js';
import { maskSecrets, wasPrinted } from './log.js';

/** The folder options the fast path understands, before the command (as units and scripts write them). */
const FOLDER_OPTIONS = { '--root': 'root', '--config-dir': 'configDir' } as const;

/**
 * `[--root DIR] [--config-dir DIR] run <job> <name>`, exactly; any other form (other options,
 * --help, a typo) is yargs' to parse and to explain.
 */
function plainRun(
  argv: readonly string[],
): { folders: { root?: string; configDir?: string }; job: JobName; name: string } | undefined {
  const folders: { root?: string; configDir?: string } = {};
  let at = 0;
  while (Object.hasOwn(FOLDER_OPTIONS, argv[at] ?? '')) {
    const key = FOLDER_OPTIONS[argv[at] as keyof typeof FOLDER_OPTIONS];
    const value = argv[at + 1];
    if (value === undefined || value.startsWith('-') || folders[key] !== undefined) return undefined;
    folders[key] = value;
    at += 2;
  }
  const [command, job, name, ...extra] = argv.slice(at);
  if (command !== 'run' || extra.length > 0 || name === undefined || name.startsWith('-') || !isJobName(job ?? ''))
    return undefined;
  return { folders, job: job as JobName, name };
}

async function main(argv: string[]): Promise<number> {
  try {
    const run = plainRun(argv);
    if (run) {
      const [{ createContext }, { runCommand }] = await Promise.all([
        import('./create-context.js'),
        import('./commands/run.js'),
      ]);
      await runCommand(createContext(run.folders), run.job, run.name);
      return ExitCode.Ok;
    }
    return await (await import('./command-line.js')).runCommandLine(argv);
  } catch (error) {
    const exitCode = error instanceof ToolError ? error.exitCode : ExitCode.Internal;
    if (wantsJson(argv) && !wasPrinted()) printJsonError(error, exitCode);
    if (error instanceof ToolError) {
      process.stderr.write(`restic-systemd: ${maskSecrets(error.message)}\n`);
      if (error instanceof UsageError && !(error instanceof ProfileError))
        process.stderr.write('Run restic-systemd --help for usage.\n');
      return exitCode;
    }
    process.stderr.write(
      `restic-systemd: internal error (please report it):\n${maskSecrets((error as Error)?.stack ?? String(error))}\n`,
    );
    return exitCode;
  }
}

/** --json among the options (not among the words `exec` passes on after --). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** A failure as JSON on stdout, so that a script reading --json output always gets an object. */
function printJsonError(error: unknown, exitCode: number): void {
  const message = error instanceof ToolError ? error.message : 'internal error (please report it)';
  const issues = error instanceof ProfileError ? { issues: error.issues } : {};
  process.stdout.write(`${maskSecrets(JSON.stringify({ error: message, exitCode, ...issues }, null, 2))}\n`);
}

process.exitCode = await main(process.argv.slice(2));
