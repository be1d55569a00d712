/**
 * `setup <name> [--path DIR] [--repository URL]`: the one-command start. Writes a 0600 profile
 * with the defaults, generates its password, creates the repository, installs and enables the
 * units, runs the first backup, and says what it did, what is left and how to restore.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { EnvironmentError, JobError, UsageError } from '../errors.js';
import { readStatus } from '../reporting/status-file.js';
import { onHost, profileFile, targetPath } from '../paths.js';
import { shellWord } from '../formats/systemd-escape.js';
import { profileTextIssues } from '../profile/load.js';
import { assertProfileName } from '../profile/name.js';
import { makeFolder, writeFileSafely } from '../files/write.js';
import { foreignFiles } from '../units/install.js';
import { allTemplateUnits } from '../units/names.js';
import { cliPrefix } from './cli-prefix.js';
import { initRepository } from './init.js';
import { installUnits, type ChangeReport } from './install.js';
import { runCommand } from './run.js';

export interface SetupOptions {
  path?: string;
  repository?: string;
  force: boolean;
}

export async function setupCommand(context: Context, name: string, options: SetupOptions): Promise<void> {
  assertProfileName(name);
  for (const [option, value] of [
    ['--path', options.path],
    ['--repository', options.repository],
  ] as const) {
    // A newline would become a profile line of its own.
    if (value !== undefined && /[\u0000-\u001f\u007f]/.test(value))
      throw new UsageError(
        `${option} ${JSON.stringify(value)} holds a control character (a newline?); nothing was changed`,
      );
  }
  const { paths } = context;
  const cli = cliPrefix(context);
  const file = profileFile(paths, name);
  const hostFile = onHost(paths, file);
  if (fs.existsSync(hostFile) && !options.force) {
    throw new UsageError(
      `${file} exists already; nothing was changed. Use ${cliPrefix(context)} install ${name} and run backup ` +
        `${name} for it, or --force to write a new profile (the old one is kept as ${file}.old).`,
    );
  }
  const backupPath = targetPath(context.paths, options.path ?? `/media/${name}`);
  const repository =
    options.repository && !options.repository.startsWith('/')
      ? options.repository
      : targetPath(context.paths, options.repository ?? `/var/lib/restic/${name}`);
  const passwordFile = path.posix.join(paths.configDir, `${name}.password`);

  if (/\s/.test(backupPath))
    throw new UsageError(
      `--path ${JSON.stringify(backupPath)}: BACKUP_PATHS lists paths separated by spaces, so a path with a ` +
        `space cannot be one; nothing was changed`,
    );
  const text = `RESTIC_REPOSITORY=${repository}\nRESTIC_PASSWORD_FILE=${passwordFile}\nBACKUP_PATHS=${backupPath}\n`;
  // Checked before it is written: a value the reader or the model would refuse must not leave a profile behind.
  const { issues } = profileTextIssues(name, file, text);
  if (issues.length > 0)
    throw new UsageError(
      `the profile setup would write is not valid: ` +
        `${issues.map((issue) => (issue.key ? `${issue.key}: ${issue.message}` : issue.message)).join('; ')}; ` +
        'nothing was changed',
    );
  const installing = paths.offline || (await context.systemdBooted());
  // What install would refuse is refused before anything is written: a unit of another setup in the way.
  const inTheWay = installing ? await foreignFiles(paths, allTemplateUnits()) : [];
  if (inTheWay.length > 0) {
    const shown = inTheWay.map((file) => path.posix.join(paths.unitDir, file));
    throw new EnvironmentError(
      `these unit files were not written by restic-systemd and would be replaced; nothing was written:\n` +
        shown.map((file) => `  ${file}`).join('\n') +
        `\nMove them aside (e.g. mv ${shown[0]} /root/), then run setup again; restic-systemd import carries ` +
        'their settings over into a profile (man restic-systemd: import).',
    );
  }
  makeFolder(paths.root, paths.configDir, 0o700);
  // The old profile's content goes into a new file: a link planted at <name>.conf.old is replaced, never followed.
  if (fs.existsSync(hostFile)) writeFileSafely(paths.root, `${file}.old`, fs.readFileSync(hostFile), { mode: 0o600 });
  writeFileSafely(paths.root, file, text, { mode: 0o600 });
  const lines = [`wrote ${file} (mode 0600): backs up ${backupPath} into ${repository}`];

  const init = await initRepository(context, name, true);
  if (init.passwordGenerated)
    lines.push(
      `generated the repository password in ${passwordFile} (mode 0600): keep a copy elsewhere, without it ` +
        `the backups cannot be read`,
    );
  lines.push(init.created ? `created the repository ${repository}` : `the repository ${repository} exists already`);

  let installed: ChangeReport | null = null;
  const left: string[] = [];
  if (installing) {
    installed = await installUnits(context, [name]);
    const timers = installed.enabled.join(', ') || 'the timers (already enabled)';
    const where = paths.offline ? ` under ${paths.root}` : '';
    lines.push(`installed and enabled ${timers}${where}: hourly backups kept 7 days, weekly prune and check`);
  } else {
    left.push(
      `install the units where systemd runs: ${cli} install ${name} (systemd is not running on this host, so ` +
        `nothing was installed)`,
    );
  }

  let firstBackup: string;
  let failure: JobError | undefined;
  try {
    await runCommand({ ...context, json: false }, 'backup', name);
    firstBackup = readStatus(paths, name, 'backup')?.message ?? 'done';
  } catch (error) {
    if (!(error instanceof JobError)) throw error;
    failure = error;
    firstBackup = `failed: ${error.message}`;
    left.push(`fix the first backup (see above), then: ${cli} run backup ${name}`);
  }
  lines.push(`first backup: ${firstBackup}`);
  // Into a new folder of root's: restore refuses one another account could plant links in.
  const restore = `${cli} restore ${name} --path ${shellWord(backupPath)}`;

  if (context.json) {
    context.print(
      JSON.stringify(
        {
          profile: file,
          repository,
          passwordFile,
          passwordGenerated: init.passwordGenerated,
          repositoryCreated: init.created,
          installed,
          firstBackup: readStatus(paths, name, 'backup') ?? null,
          left,
          restore,
        },
        null,
        2,
      ),
    );
  } else {
    context.print(
      [
        ...lines,
        ...left.map((item) => `left to do: ${item}`),
        `to see it: ${cli} status ${name}`,
        `to restore: ${restore}`,
      ].join('\n'),
    );
  }
  if (failure) throw failure;
}
